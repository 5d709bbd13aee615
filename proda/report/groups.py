"""Repair groups: what a V1 -> V2 patch did, measured on four groups of benchmark items.

For versions A (before) and B (after) and the items both scored:

- ``dev_failed``: dev items A failed — the failures the debugger diagnosed (their ``from`` is 0 by
  construction), split into ``dev_targeted`` (those with a statement or concept the patch taught:
  the repair proper) and ``dev_untargeted`` (those whose own statements and concepts it does not
  teach — the item has none, or every lesson about them was refused by the orthogonality rule: a
  rise there is churn, not repair; :func:`taught_about`);
- ``dev_passed``: dev items A passed — retention (``from`` is 1 by construction);
- ``holdout_related``: holdout items sharing an L1 concept with a node the patch taught (a concept
  of a patch sample, or a concept of a statement it taught) — transfer to items never seen;
- ``holdout_unrelated``: the other holdout items — the forgetting control;
- ``holdout_failed``: holdout items A failed — the churn control for ``dev_failed``: how many
  failures a retraining flips to right without being targeted. Selected on failure, ``dev_failed``
  rises even under pure noise (regression to the mean); ``repair`` compares its rise with this one;
- ``holdout_passed``: holdout items A passed — the churn control for ``dev_passed``; ``retention``
  compares how many of each the retraining broke.

Each group: ``{"n", "from", "to", "delta", "ci95", "p", "fixed", "broken", "ci95_documents",
"documents"}`` (proda/score/paired.py: paired bootstrap interval over items, exact McNemar p, and an
interval resampling whole documents — items of one document are not independent). ``repair``:
dev_failed's fix rate minus holdout_failed's; ``retention``: dev_passed's break rate minus
holdout_passed's (negative is better); each with a bootstrap interval and Fisher's exact p.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..records import Concept, Item, Sample
from ..score import paired

GROUPS = ("dev_failed", "dev_targeted", "dev_untargeted", "dev_passed", "holdout_related", "holdout_unrelated")
CONTROLS = ("holdout_failed", "holdout_passed")


def patched_concepts(patch_samples: Iterable[Sample], concepts: Iterable[Concept]) -> set[str]:
    """L1 keys a patch taught: the concepts its samples list and those of the statements they list."""
    samples = [s for s in patch_samples if s.origin == "patch"]
    taught_statements = {k for s in samples for k in s.statements}
    keys = {k for s in samples for k in s.concepts}
    keys |= {c.key for c in concepts if taught_statements.intersection(c.statements)}
    return keys


def taught_statements(patch_samples: Iterable[Sample]) -> set[str]:
    """L2 keys a patch taught: the statements its (patch, not replay) samples list."""
    return {k for s in patch_samples if s.origin == "patch" for k in s.statements}


def taught_about(item: Item, patched: set[str], taught: set[str]) -> bool:
    """Whether a patch teaches one of the item's own nodes: a concept it names (``patched``) or a
    statement it rests on (``taught``). ``proda debug``'s ``untargeted`` and the groups below use
    this one definition."""
    return bool(patched.intersection(item.concepts) or taught.intersection(item.statements))


def membership(items: Sequence[Item], before: dict[str, bool], patched: set[str],
               taught: set[str] = frozenset()) -> dict[str, list[str]]:
    """Item keys per group (items ``before`` has a result for); ``patched``: the concepts the patch
    taught, ``taught``: its statements."""
    out: dict[str, list[str]] = {g: [] for g in GROUPS + CONTROLS}
    for it in items:
        if it.key not in before:
            continue
        if it.split == "dev":
            out["dev_passed" if before[it.key] else "dev_failed"].append(it.key)
            if not before[it.key]:
                out["dev_targeted" if taught_about(it, patched, taught) else "dev_untargeted"].append(it.key)
        else:
            out["holdout_related" if patched.intersection(it.concepts) else "holdout_unrelated"].append(it.key)
            out["holdout_passed" if before[it.key] else "holdout_failed"].append(it.key)
    return out


def _by_document(keys: Sequence[str], doc: dict[str, str], before: dict[str, bool],
                 after: dict[str, bool]) -> list[tuple[int, int, int]]:
    """(fixed, broken, items) per document of a group's items, in document order."""
    out: dict[str, list[int]] = {}
    for k in keys:
        row = out.setdefault(doc[k], [0, 0, 0])
        row[0] += bool(after[k] and not before[k])
        row[1] += bool(before[k] and not after[k])
        row[2] += 1
    return [tuple(v) for _, v in sorted(out.items())]


def measure(items: Sequence[Item], before: dict[str, bool], after: dict[str, bool],
            patched: set[str], taught: set[str] = frozenset()) -> dict[str, Any]:
    """``{"groups": {G: stats}, "repair": {...}}`` over the items both result sets hold."""
    both = [it for it in items if it.key in before and it.key in after]
    members = membership(both, before, patched, taught)
    doc = {it.key: it.doc for it in both}
    groups = {}
    for g, keys in members.items():
        groups[g] = paired.compare([before[k] for k in keys], [after[k] for k in keys])
        groups[g]["ci95_documents"] = list(paired.cluster_ci(_by_document(keys, doc, before, after)))
        groups[g]["documents"] = len({doc[k] for k in keys})
    target, control = groups["dev_failed"], groups["holdout_failed"]
    repair = paired.difference(target["fixed"], target["n"], control["fixed"], control["n"])
    kept, base = groups["dev_passed"], groups["holdout_passed"]
    retention = paired.difference(kept["broken"], kept["n"], base["broken"], base["n"])
    return {"groups": groups, "repair": repair, "retention": retention}
