"""``proda diff A B``: what changed between two build versions.

Records added and removed per kind (chunks, chains, statements, concepts, items, samples), by
content key; test results fixed (wrong in A, right in B) and broken (the reverse) for the items
both versions scored; accuracy of each version per split and discipline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine import versions

if TYPE_CHECKING:
    from ..project import Project

KINDS = {"chunks": ("chunk", "chunk"), "chains": ("extract", "chain"),
         "statements": ("extract", "statement"), "concepts": ("extract", "concept"),
         "items": ("bench", "item"), "samples": ("synth", "sample")}


def diff(project: "Project", a: str, b: str) -> dict[str, Any]:
    from ..engine.catalog import open_catalog

    versions.record(project)
    with open_catalog(project) as cat:
        va, vb = versions.resolve(project, cat, a), versions.resolve(project, cat, b)
        added, removed = {}, {}
        cache: dict[tuple[str, str], list] = {}

        def records(vid, stage):
            if (vid, stage) not in cache:
                cache[(vid, stage)] = versions.load_records(project, cat, vid, stage)
            return cache[(vid, stage)]

        for kind, (stage, cls) in KINDS.items():
            ka = {r.key for r in records(va, stage) if type(r).__name__.lower() == cls}
            kb = {r.key for r in records(vb, stage) if type(r).__name__.lower() == cls}
            added[kind], removed[kind] = len(kb - ka), len(ka - kb)
        ra = {r.item: r.correct for r in records(va, "test")}
        rb = {r.item: r.correct for r in records(vb, "test")}
        both = sorted(set(ra) & set(rb))
        fixed = [k for k in both if rb[k] and not ra[k]]
        broken = [k for k in both if ra[k] and not rb[k]]
        acc_a = _accuracy(cat, va)
        acc_b = _accuracy(cat, vb)
    return {"from": va, "to": vb, "added": added, "removed": removed,
            "results": {"fixed": len(fixed), "broken": len(broken), "fixed_items": fixed,
                        "broken_items": broken},
            "accuracy": {"from": acc_a, "to": acc_b}}


def _accuracy(cat, vid: str) -> dict[str, Any]:
    test = versions.version_manifests(cat, vid).get("test:all")
    return dict(test["extra"].get("accuracy", {})) if test else {}


def render(result: dict[str, Any]) -> str:
    lines = [f"diff {result['from']} -> {result['to']}"]
    for kind in KINDS:
        lines.append(f"  {kind:<11} +{result['added'][kind]:<6} -{result['removed'][kind]}")
    r = result["results"]
    lines.append(f"  results     fixed {r['fixed']}  broken {r['broken']}")
    fa, ta = result["accuracy"]["from"], result["accuracy"]["to"]
    if fa or ta:
        lines.append(f"  {'accuracy':<22} {'from':>7} {'to':>7}")
        for split in ("all", "dev", "holdout"):
            lines.append(f"  {split:<22} {fa.get(split, 0):>7.3f} {ta.get(split, 0):>7.3f}")
        for d in sorted(set(fa.get("by_discipline", {})) | set(ta.get("by_discipline", {}))):
            lines.append(f"  {d:<22} {fa.get('by_discipline', {}).get(d, 0):>7.3f} "
                         f"{ta.get('by_discipline', {}).get(d, 0):>7.3f}")
    return "\n".join(lines)
