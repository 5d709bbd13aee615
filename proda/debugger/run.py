"""``proda debug`` (the Debugger): dev-split failures -> calibrated diagnoses -> a patch file.

1. Probe: for each failed ``dev`` item — and each passed one, for the base rate — ask probes about
   its own L1/L2 nodes (never the item itself, proda/debugger/probes.py). A probe counts only if it
   passes the option-only checks (``probes.blind_flags``); it is scored by how much its stem raises
   each option (log-likelihood with the stem minus without), so the model's option-only preferences
   decide nothing.
2. Diagnose each failure against the model's base rate on valid probes and chance
   (proda/debugger/diagnosis.py): ``concept_gap``, ``reasoning_deficit`` or ``undetermined``, with the
   evidence kept. With ``debug.diagnosis = "llm"`` an LLM judge labels it instead (the paper's
   diagnosis; needs ``llm.backend``), given the same probe evidence.
3. Budget (phase 2, ``debug.allocation = "error"``): ``samples_per_error`` x failures, split over
   disciplines in proportion to their dev error rates, then evenly over each discipline's failures;
   what a failure with few nodes cannot use goes, once, to the others of its discipline.
4. Patch: lessons about each failure's nodes in new wording (proda/debugger/patch.py), every one
   checked against every item of both splits (the orthogonality rule), plus a replay subset chosen
   for what the patch may disturb (proda/debugger/replay.py).

The ``holdout`` split is never diagnosed or probed; its texts are only used to *exclude* training
text that overlaps them. Diagnoses go to the catalog (table ``diagnoses``, with their evidence).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..engine import outputs
from ..errors import UsageError
from ..extract.graph import concepts_by_doc
from ..synth import patchfile
from ..synth.orthogonality import KINDS, Rule
from ..synth.samples import allocate_budget
from . import diagnosis, patch, probes, replay

if TYPE_CHECKING:
    from ..project import Project
    from ..records import Chain, Concept, Item, Statement


@dataclass
class Plan:
    """One probed item and what the debugger knows about it."""

    item: "Item"
    chain: "Chain"
    statements: list["Statement"]
    concepts: list["Concept"]
    neighbours: list["Concept"]  # concepts of the item's document (distractor pool)
    probes: list[probes.Probe]
    correct: list[bool] | None = None


def debug(project: "Project") -> dict[str, Any]:
    from ..engine.catalog import open_catalog
    from ..score.results import results_for

    checkpoint = outputs.current_checkpoint(project)
    if checkpoint is None:
        raise UsageError("there is no checkpoint to debug yet", "run `proda build` first")
    every = outputs.items(project)
    items = [i for i in every if i.split == "dev"]  # holdout: never diagnosed
    known = outputs.knowledge(project)
    by_doc = concepts_by_doc(known.statements, list(known.concepts.values()))
    cfg, synth = project.config.debug, project.config.synth
    with open_catalog(project) as cat:
        results, _, _ = results_for(project, cat, checkpoint, items)
    chosen = {r.item: r.chosen for r in results if not r.correct}
    failures = [i for i in items if i.key in chosen]
    passed = [i for i in items if i.key not in chosen]

    plans = {i.key: _plan(i, known, by_doc, synth.ngram) for i in failures + passed}
    _score_probes(project, checkpoint, list(plans.values()))
    base = diagnosis.base_rate(ok for p in plans.values() for ok in p.correct)
    if cfg.diagnosis == "llm":
        from .judge import judge

        diagnoses = judge(project, checkpoint, [(plans[i.key], chosen[i.key]) for i in failures], base)
    else:
        diagnoses = [diagnosis.diagnose(i, chosen[i.key], checkpoint, plans[i.key].probes, plans[i.key].correct,
                                        base=base, min_probes=cfg.min_probes, alpha=cfg.alpha)
                     for i in failures]

    totals: dict[str, int] = {}
    for item in items:
        totals[item.discipline] = totals.get(item.discipline, 0) + 1
    rates = diagnosis.error_rates(diagnoses, totals)
    per_item = _budget(cfg, failures, rates, totals)
    planned = dict(per_item)  # the phase-2 budget, before leftovers move within a discipline

    name = patchfile.next_patch_path(project.patches, "debug").name
    earlier = patchfile.written_from(project.patches, checkpoint)  # debug run twice on one checkpoint
    rule = Rule(every, synth.ngram)  # both splits: the rule has no exceptions
    dropped = dict.fromkeys(KINDS, 0)

    def lessons(item, diag, n, dropped):
        plan = plans[item.key]
        pool = list({c.key: c for c in plan.concepts + plan.neighbours}.values())
        confused = diagnosis.confused_concepts(item, chosen[item.key], pool)
        return patch.patch_samples(diag, item, plan.chain, plan.statements, pool, confused, n=n, mix=synth.mix,
                                   patch_name=name, ngram=synth.ngram, rule=rule, dropped=dropped,
                                   lessons=cfg.lessons, paraphrases=cfg.paraphrases)

    written = {item.key: lessons(item, diag, per_item[item.key], dropped) for item, diag in zip(failures, diagnoses)}
    _spend_leftovers(failures, diagnoses, per_item, written, lessons)
    samples = [s for item in failures for s in written[item.key]]
    samples = list({s.key: s for s in samples}.values())
    replayed = _replay(project, samples, passed, known, by_doc, cfg.replay_ratio, checkpoint, name)
    labels = {label: sum(d.label == label for d in diagnoses) for label in diagnosis.LABELS}
    patch_path = None
    if samples:
        budget = {"mode": cfg.allocation, "samples_per_error": cfg.samples_per_error,
                  "total": sum(planned.values()), "by_discipline": _by_discipline(failures, planned),
                  "written": len(samples), "replay": len(replayed)}
        header = patchfile.make_header(checkpoint, diagnoses, rates, budget=budget, dropped=dropped)
        patch_path = project.patches / name
        patchfile.write_patch(patch_path, header, samples + replayed)
        if earlier:
            from ..engine.damage import say

            say(f"note: {', '.join('specs/patches/' + n for n in earlier)} {'was' if len(earlier) == 1 else 'were'} "
                f"already diagnosed from checkpoint {checkpoint[:12]}: {name} adds to {'it' if len(earlier) == 1 else 'them'} "
                "and both train at the next build — delete the one you do not want")
    with open_catalog(project) as cat:
        for d in diagnoses:
            cat.execute("INSERT OR REPLACE INTO diagnoses VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [d.checkpoint, d.item, d.discipline, d.label, d.chain, json.dumps(d.nodes),
                         d.confused_with, name if patch_path else "", json.dumps(d.evidence)])
    valid = [len(p.probes) for p in plans.values()]
    # failures the patch teaches none of their own nodes (no statement or concept of theirs: the
    # extractor gave their item none, or every lesson about them broke the orthogonality rule) —
    # the same definition as the repair groups' dev_untargeted (proda/report/groups.py)
    from ..report.groups import patched_concepts, taught_about, taught_statements

    concepts_taught = patched_concepts(samples, known.concepts.values())
    statements_taught = taught_statements(samples)
    untargeted = sorted(i.key for i in failures if not taught_about(i, concepts_taught, statements_taught))
    return {"failures": len(failures), "untargeted": untargeted, "same_checkpoint": earlier,
            "concept_gaps": labels["concept_gap"],
            "reasoning_deficits": labels["reasoning_deficit"], "undetermined": labels["undetermined"],
            "patch": str(patch_path.relative_to(project.root)) if patch_path else "",
            "samples": len(samples), "replay": len(replayed), "checkpoint": checkpoint,
            "error_rates": rates, "base_rate": round(base, 4), "diagnosis": cfg.diagnosis,
            "valid_probes": sum(valid), "dropped": dropped,
            "budget": {"mode": cfg.allocation, "total": sum(planned.values())}}


def _plan(item, known, by_doc, ngram: int) -> Plan:
    chain = known.chains[item.chain]
    statements = [known.statements[k] for k in item.statements if k in known.statements]
    concepts = [known.concepts[k] for k in item.concepts if k in known.concepts]
    neighbours = by_doc.get(item.doc, [])
    return Plan(item, chain, statements, concepts, neighbours,
                probes.probes_for_item(item, chain, statements, concepts, neighbours, ngram=ngram))


def _score_probes(project: "Project", checkpoint: str, plans: list[Plan]) -> None:
    """Score every valid probe by how much its stem raises each option (lm-eval's
    ``acc_mutual_info``: log-likelihood with the stem minus without it), so that an option the model
    prefers whatever it is asked — the option-only bias items are checked for — decides nothing."""
    from ..score import predictions
    from ..score.results import score_mc

    valid = [p for plan in plans for p in plan.probes if not probes.blind_flags(p)]
    asked = score_mc(project, checkpoint, [(p.stem, p.options) for p in valid])
    blind = score_mc(project, checkpoint, [("", p.options) for p in valid])
    gain = [[w - b for w, b in zip(row_w, row_b)] for row_w, row_b in zip(asked, blind)]
    right = {p.key: c == p.answer for p, c in zip(valid, predictions(gain))}
    for plan in plans:
        plan.probes = [p for p in plan.probes if p.key in right]
        plan.correct = [right[p.key] for p in plan.probes]


def _budget(cfg, failures: list["Item"], rates: dict[str, float], totals: dict[str, int]) -> dict[str, int]:
    """Samples per failure: ``samples_per_error`` each, or (phase 2) the same total split over
    disciplines by error rate, then evenly over each discipline's failures."""
    if cfg.allocation == "per_error" or not failures:
        return {i.key: cfg.samples_per_error for i in failures}
    by_disc: dict[str, list["Item"]] = {}
    for i in failures:
        by_disc.setdefault(i.discipline, []).append(i)
    budgets = allocate_budget(sorted(totals), cfg.samples_per_error * len(failures), rates, "error")
    out = {}
    for disc, its in by_disc.items():
        share = patch.mix_counts(budgets.get(disc, 0), [1] * len(its))
        out.update((i.key, n) for i, n in zip(sorted(its, key=lambda i: i.key), share))
    return out


def _spend_leftovers(failures, diagnoses, per_item, written, lessons) -> None:
    """A failure whose nodes support fewer lessons than its share (or none: no nodes) leaves budget
    unspent; give it, within the discipline, to the failures that filled their share (once, evenly).
    ``per_item`` is updated to what each failure was finally asked for."""
    by_disc: dict[str, list] = {}
    for item, diag in zip(failures, diagnoses):
        by_disc.setdefault(item.discipline, []).append((item, diag))
    for pairs in by_disc.values():
        left = sum(per_item[i.key] - len(written[i.key]) for i, _ in pairs)
        full = [(i, d) for i, d in pairs if per_item[i.key] and len(written[i.key]) >= per_item[i.key]]
        if left <= 0 or not full:
            continue
        for (item, diag), extra in zip(full, patch.mix_counts(left, [1] * len(full))):
            if extra:
                per_item[item.key] += extra
                written[item.key] = lessons(item, diag, per_item[item.key], None)


def _by_discipline(failures: list["Item"], per_item: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in failures:
        out[i.discipline] = out.get(i.discipline, 0) + per_item[i.key]
    return dict(sorted(out.items()))


def _replay(project, samples, passed, known, by_doc, ratio, seed, name):
    if not samples:
        return []
    taught = {k for s in samples for k in s.concepts}
    taught_statements = {k for s in samples for k in s.statements}
    near: set[str] = set()
    for c in known.concepts.values():
        if c.key in taught:
            docs = {known.statements[k].doc for k in c.statements if k in known.statements}
            near.update(x.key for d in docs for x in by_doc.get(d, []))
        elif taught_statements.intersection(c.statements):
            near.add(c.key)
    near -= taught
    keep = {k for i in passed for k in i.statements}
    originals = outputs.samples(project, patches=False)
    return replay.replay_samples(originals, samples, ratio, seed=seed, patch_name=name,
                                 passed=keep, neighbours=near)
