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
from typing import Any

from . import debugger, patches
from .engine import load_shard
from .errors import UsageError
from .records import Chain, Concept, Sample, Statement


def debug(project) -> dict[str, Any]:
    from .catalog import open_catalog
    from .evaluate import results_for, score_mc
    from .stages.compile import current_checkpoint
    from .stages.test import all_items

    checkpoint = current_checkpoint(project)
    if checkpoint is None:
        raise UsageError("there is no checkpoint to debug yet", "run `proda build` first")
    items = [i for i in all_items(project) if i.split == "dev"]  # holdout: never seen here
    knowledge = _knowledge(project)
    with open_catalog(project) as cat:
        results, _, _ = results_for(project, cat, checkpoint, items)
    chosen = {r.item: r.chosen for r in results if not r.correct}
    failures = [i for i in items if i.key in chosen]

    # probes for all failures, scored in one batch
    plans = []
    for item in failures:
        chain = knowledge["chains"][item.chain]
        statements = [knowledge["statements"][k] for k in item.statements if k in knowledge["statements"]]
        concepts = [knowledge["concepts"][k] for k in item.concepts if k in knowledge["concepts"]]
        neighbours = knowledge["by_doc"].get(item.doc, [])
        plans.append((item, chain, statements, concepts, neighbours,
                      debugger.probes_for_item(item, chain, statements, concepts, neighbours)))
    questions = [(p.stem, p.options) for plan in plans for p in plan[5]]
    from .score import predictions

    chosen_options = predictions(score_mc(project, checkpoint, questions))
    cursor = 0
    stems_of_chain: dict[str, list[str]] = {}
    for it in items:  # the stems a patch for one item must not repeat: its chain's other items
        stems_of_chain.setdefault(it.chain, []).append(it.stem)
    name = patches.next_patch_path(project.patches, "debug").name
    cfg, mix = project.config.debug, project.config.synth.mix
    diagnoses, samples = [], []
    for item, chain, statements, concepts, neighbours, probes in plans:
        correct = [chosen_options[cursor + i] == probe.answer for i, probe in enumerate(probes)]
        cursor += len(probes)
        diag = debugger.diagnose(item, chosen[item.key], checkpoint, probes, correct)
        diagnoses.append(diag)
        pool = list({c.key: c for c in concepts + neighbours}.values())
        confused = debugger.confused_concepts(item, chosen[item.key], pool)
        siblings = stems_of_chain[item.chain]
        samples += debugger.patch_samples(diag, item, chain, statements, concepts + neighbours, confused,
                                          n=cfg.samples_per_error, mix=mix, patch_name=name,
                                          ngram=project.config.synth.ngram, protected=siblings)
    samples = list({s.key: s for s in samples}.values())
    originals = [s for d in project.disciplines() for s in load_shard(project.build, "synth", d)
                 if isinstance(s, Sample)]
    replay = debugger.replay_samples(originals, samples, cfg.replay_ratio, seed=checkpoint,
                                     patch_name=name) if samples else []
    totals: dict[str, int] = {}
    for item in items:
        totals[item.discipline] = totals.get(item.discipline, 0) + 1
    rates = debugger.error_rates(diagnoses, totals)
    gaps = sum(d.label == "concept_gap" for d in diagnoses)
    patch_path = None
    if samples:
        header = patches.make_header(checkpoint, diagnoses, rates)
        patch_path = project.patches / name
        patches.write_patch(patch_path, header, samples + replay)
    with open_catalog(project) as cat:
        for d in diagnoses:
            cat.execute("INSERT OR REPLACE INTO diagnoses VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        [d.checkpoint, d.item, d.discipline, d.label, d.chain, json.dumps(d.nodes),
                         d.confused_with, name if patch_path else ""])
    return {"failures": len(failures), "concept_gaps": gaps, "reasoning_deficits": len(diagnoses) - gaps,
            "patch": str(patch_path.relative_to(project.root)) if patch_path else "",
            "samples": len(samples), "replay": len(replay), "checkpoint": checkpoint,
            "error_rates": rates}


def _knowledge(project) -> dict[str, Any]:
    chains, statements, concepts = {}, {}, {}
    for d in project.disciplines():
        for r in load_shard(project.build, "extract", d):
            if isinstance(r, Chain):
                chains[r.key] = r
            elif isinstance(r, Statement):
                statements[r.key] = r
            elif isinstance(r, Concept):
                concepts[r.key] = r
    from .stages.bench import concepts_by_doc

    return {"chains": chains, "statements": statements, "concepts": concepts,
            "by_doc": concepts_by_doc(statements, list(concepts.values()))}
