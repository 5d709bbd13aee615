"""``proda debug`` (the Debugger): dev-split failures -> diagnoses -> a patch file in specs/patches/.

For each failed ``dev`` item of the current checkpoint, probe the model on the item's own L1/L2
nodes (concept questions generated from those nodes, never the item itself). A failed probe is a
*concept gap* on those nodes; all probes passed is a *reasoning deficit* on the chain. Each error
gets ``debug.samples_per_error`` patch samples (6:3:1): contrastive samples for concept gaps,
step-by-step scaffolds for reasoning deficits; a replay subset of original samples is added. The
patch is a source edit: the next ``proda build`` rebuilds only what depends on it. The ``holdout``
split is never looked at. Diagnoses go to the catalog (table ``diagnoses``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import outputs
from ..errors import UsageError
from ..extract.graph import concepts_by_doc
from ..synth import patchfile
from . import diagnosis, patch, probes, replay

if TYPE_CHECKING:
    from ..project import Project
    from ..records import Chain, Concept, Item, Statement


@dataclass
class Plan:
    """One failed item and what the debugger knows about it."""

    item: "Item"
    chain: "Chain"
    statements: list["Statement"]
    concepts: list["Concept"]
    neighbours: list["Concept"]  # concepts of the item's document (distractor pool)
    probes: list[probes.Probe]


def debug(project: "Project") -> dict[str, Any]:
    from ..engine.catalog import open_catalog
    from ..score import predictions
    from ..score.results import results_for, score_mc

    checkpoint = outputs.current_checkpoint(project)
    if checkpoint is None:
        raise UsageError("there is no checkpoint to debug yet", "run `proda build` first")
    items = [i for i in outputs.items(project) if i.split == "dev"]  # holdout: never seen here
    known = outputs.knowledge(project)
    by_doc = concepts_by_doc(known.statements, list(known.concepts.values()))
    ngram = project.config.synth.ngram
    with open_catalog(project) as cat:
        results, _, _ = results_for(project, cat, checkpoint, items)
    chosen = {r.item: r.chosen for r in results if not r.correct}
    failures = [i for i in items if i.key in chosen]

    # probes for all failures, scored in one batch
    plans = []
    for item in failures:
        chain = known.chains[item.chain]
        statements = [known.statements[k] for k in item.statements if k in known.statements]
        concepts = [known.concepts[k] for k in item.concepts if k in known.concepts]
        neighbours = by_doc.get(item.doc, [])
        plans.append(Plan(item, chain, statements, concepts, neighbours,
                          probes.probes_for_item(item, chain, statements, concepts, neighbours, ngram=ngram)))
    questions = [(p.stem, p.options) for plan in plans for p in plan.probes]
    chosen_options = predictions(score_mc(project, checkpoint, questions))
    cursor = 0
    stems_of_chain: dict[str, list[str]] = {}
    for it in items:  # the stems a patch for one item must not repeat: its chain's other items
        stems_of_chain.setdefault(it.chain, []).append(it.stem)
    name = patchfile.next_patch_path(project.patches, "debug").name
    cfg, mix = project.config.debug, project.config.synth.mix
    diagnoses, samples = [], []
    for plan in plans:
        item = plan.item
        correct = [chosen_options[cursor + i] == probe.answer for i, probe in enumerate(plan.probes)]
        cursor += len(plan.probes)
        diag = diagnosis.diagnose(item, chosen[item.key], checkpoint, plan.probes, correct)
        diagnoses.append(diag)
        pool = list({c.key: c for c in plan.concepts + plan.neighbours}.values())
        confused = diagnosis.confused_concepts(item, chosen[item.key], pool)
        samples += patch.patch_samples(diag, item, plan.chain, plan.statements, plan.concepts + plan.neighbours,
                                       confused, n=cfg.samples_per_error, mix=mix, patch_name=name,
                                       ngram=ngram, protected=stems_of_chain[item.chain])
    samples = list({s.key: s for s in samples}.values())
    originals = outputs.samples(project, patches=False)
    replayed = replay.replay_samples(originals, samples, cfg.replay_ratio, seed=checkpoint,
                                     patch_name=name) if samples else []
    totals: dict[str, int] = {}
    for item in items:
        totals[item.discipline] = totals.get(item.discipline, 0) + 1
    rates = diagnosis.error_rates(diagnoses, totals)
    gaps = sum(d.label == "concept_gap" for d in diagnoses)
    patch_path = None
    if samples:
        header = patchfile.make_header(checkpoint, diagnoses, rates)
        patch_path = project.patches / name
        patchfile.write_patch(patch_path, header, samples + replayed)
    with open_catalog(project) as cat:
        for d in diagnoses:
            cat.execute("INSERT OR REPLACE INTO diagnoses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [d.checkpoint, d.item, d.discipline, d.label, d.chain, json.dumps(d.nodes),
                         d.confused_with, name if patch_path else ""])
    return {"failures": len(failures), "concept_gaps": gaps, "reasoning_deficits": len(diagnoses) - gaps,
            "patch": str(patch_path.relative_to(project.root)) if patch_path else "",
            "samples": len(samples), "replay": len(replayed), "checkpoint": checkpoint,
            "error_rates": rates}
