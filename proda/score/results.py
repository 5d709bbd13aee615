"""Scoring benchmark items against a checkpoint, with results kept per (checkpoint, item).

Shared by the ``test`` stage, ``proda test`` and ``proda debug`` (which scores its probes the same
way). A result that exists for (checkpoint, item) is never computed again.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

import msgspec

from ..text.format import item_context, option_continuation
from ..records import Item, Result, make

if TYPE_CHECKING:
    from ..project import Project


def score_mc(project: "Project", checkpoint: str, questions: Sequence[tuple[str, Sequence[str]]]) -> list[list[float]]:
    """Log-likelihood of each option given its stem, for (stem, options) pairs."""
    from . import get_scorer
    from ..engine.outputs import checkpoint_dir

    if not questions:
        return []
    cfg = project.config.test
    requests = [(item_context(stem), [option_continuation(o) for o in options]) for stem, options in questions]
    return get_scorer(cfg.scorer)(checkpoint_dir(project, checkpoint), requests,
                                  batch_size=cfg.batch_size, normalise=cfg.normalise)


def scorer_id(project: "Project") -> str:
    """What, besides the checkpoint, decides a result: the scorer and its normalisation."""
    cfg = project.config.test
    return f"{cfg.scorer}:{'normalised' if cfg.normalise else 'sum'}"


def score_alone(project: "Project", checkpoint: str, options: Sequence[Sequence[str]]) -> list[list[float]]:
    """Log-likelihood of each option with no question before it: lm-eval's unconditional request
    (empty context, the option as the continuation), as its ``acc_mutual_info`` scores it."""
    from . import get_scorer
    from ..engine.outputs import checkpoint_dir

    if not options:
        return []
    cfg = project.config.test
    requests = [("", [option_continuation(o) for o in opts]) for opts in options]
    return get_scorer(cfg.scorer)(checkpoint_dir(project, checkpoint), requests,
                                  batch_size=cfg.batch_size, normalise=cfg.normalise)


def results_for(project: "Project", cat, checkpoint: str, items: Sequence[Item]) -> tuple[list[Result], int, int]:
    """Results of ``items`` under ``checkpoint`` (and the configured scorer): reused from the
    catalog, the rest scored now — with the stem and, for the question's share of the accuracy,
    without it. Returns (results in item order, ran, reused)."""
    keys = [it.key for it in items]
    scorer = scorer_id(project)
    known: dict[str, Result] = {}
    if keys:
        cat.con.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (item VARCHAR)")
        cat.con.execute("DELETE FROM wanted")
        cat.con.executemany("INSERT INTO wanted VALUES (?)", [[k] for k in keys])
        for item, chosen, scores, correct, alone in cat.query(
                "SELECT r.item, r.chosen, r.scores, r.correct, r.unconditional FROM results r "
                "JOIN wanted w ON r.item = w.item WHERE r.checkpoint = ? AND r.scorer = ?", [checkpoint, scorer]):
            known[item] = make(Result, checkpoint=checkpoint, item=item, chosen=chosen,
                               scores=json.loads(scores), correct=bool(correct),
                               unconditional=json.loads(alone) if alone else [])
    from . import predictions

    todo = [it for it in items if it.key not in known]
    scores = score_mc(project, checkpoint, [(it.stem, [o.text for o in it.options]) for it in todo])
    fresh = []
    for item, row, chosen in zip(todo, scores, predictions(scores)):
        fresh.append(make(Result, checkpoint=checkpoint, item=item.key, chosen=chosen,
                          scores=[round(float(x), 6) for x in row], correct=chosen == item.answer))
    # results without their scores alone (new ones, or kept from before this was measured)
    by_key = {it.key: it for it in items}
    bare = [r for r in [*known.values(), *fresh] if not r.unconditional]
    alone = score_alone(project, checkpoint, [[o.text for o in by_key[r.item].options] for r in bare])
    filled = {r.item: msgspec.structs.replace(r, unconditional=[round(float(x), 6) for x in row])
              for r, row in zip(bare, alone)}
    fresh = [filled.get(r.item, r) for r in fresh]
    if fresh:
        cat.con.executemany(
            "INSERT OR REPLACE INTO results (checkpoint, scorer, item, discipline, split, chosen, scores, correct, "
            "unconditional) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[r.checkpoint, scorer, r.item, by_key[r.item].discipline, by_key[r.item].split, r.chosen,
              json.dumps(r.scores), r.correct, json.dumps(r.unconditional)] for r in fresh])
    refilled = [filled[k] for k in known if k in filled]
    if refilled:
        cat.con.executemany("UPDATE results SET unconditional = ? WHERE checkpoint = ? AND scorer = ? AND item = ?",
                            [[json.dumps(r.unconditional), checkpoint, scorer, r.item] for r in refilled])
    reused = len(known)
    known = {k: filled.get(k, r) for k, r in known.items()}
    known.update((r.item, r) for r in fresh)
    return [known[k] for k in keys], len(fresh), reused


def accuracy(items: Sequence[Item], results: Sequence[Result]) -> dict[str, Any]:
    by_item = {r.item: r for r in results}
    groups: dict[str, list[bool]] = {"all": [], "dev": [], "holdout": []}
    by_discipline: dict[str, list[bool]] = {}
    for item in items:
        r = by_item.get(item.key)
        if r is None:
            continue
        groups["all"].append(r.correct)
        groups.setdefault(item.split, []).append(r.correct)
        by_discipline.setdefault(item.discipline, []).append(r.correct)

    def mean(xs):
        return round(sum(xs) / len(xs), 4) if xs else 0.0

    out: dict[str, Any] = {k: mean(v) for k, v in groups.items()}
    out["by_discipline"] = {d: mean(v) for d, v in sorted(by_discipline.items())}
    return out


def question(items: Sequence[Item], results: Sequence[Result]) -> dict[str, Any]:
    """How much the question adds, per split: accuracy with the stem, with the options alone (what
    the model gets without reading the question: fluency and priors), their difference, and lm-eval's
    ``acc_mutual_info`` (the option whose score the stem raises most)."""
    from . import predictions

    by_item = {r.item: r for r in results if r.unconditional}
    rows: dict[str, list[tuple[bool, bool, bool]]] = {"all": [], "dev": [], "holdout": []}
    for item in items:
        r = by_item.get(item.key)
        if r is None:
            continue
        [alone] = predictions([r.unconditional])
        [gain] = predictions([[a - b for a, b in zip(r.scores, r.unconditional)]])
        for group in ("all", item.split):
            rows.setdefault(group, []).append((r.correct, alone == item.answer, gain == item.answer))

    def mean(xs):
        return round(sum(xs) / len(xs), 4) if xs else 0.0

    out: dict[str, Any] = {"with": {}, "without": {}, "adds": {}, "mutual_info": {}, "n": {}}
    for group, got in rows.items():
        out["with"][group] = mean([w for w, _, _ in got])
        out["without"][group] = mean([a for _, a, _ in got])
        out["adds"][group] = round(out["with"][group] - out["without"][group], 4)
        out["mutual_info"][group] = mean([m for _, _, m in got])
        out["n"][group] = len(got)
    return out
