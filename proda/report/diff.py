"""``proda diff A B``: what changed between two build versions.

Records added and removed per kind (chunks, chains, statements, concepts, items, samples), by
content key; test results fixed (wrong in A, right in B) and broken (the reverse) for the items
both versions scored; accuracy of each version per split and discipline; and the repair groups
(proda/report/groups.py): dev_failed, dev_passed, holdout_related, holdout_unrelated (plus the
holdout_failed churn control), each with n, from, to, delta, a paired bootstrap 95% interval and an
exact McNemar p-value.
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

    versions.record_if_idle(project)
    with open_catalog(project, read_only=True) as cat:
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
        suites = _suites(cat, va, vb)
        items = [r for r in records(vb, "bench") if type(r).__name__ == "Item"]
        repair = _groups(records, va, vb, items, ra, rb)
    return {"from": va, "to": vb, "added": added, "removed": removed,
            "results": {"fixed": len(fixed), "broken": len(broken), "fixed_items": fixed,
                        "broken_items": broken,
                        "untested": [v for v, acc in ((va, acc_a), (vb, acc_b)) if not acc]},  # 0 means nothing there
            "accuracy": {"from": acc_a, "to": acc_b}, **repair, "suites": suites}


def _suites(cat, va: str, vb: str) -> dict[str, Any]:
    """The regression suites both versions' test stages scored (proda/score/suites.py)."""
    from ..score.suites import compare

    def of(vid):
        test = versions.version_manifests(cat, vid).get("test:all")
        return test["extra"].get("suites", {}) if test else {}

    return compare(of(va), of(vb))


def _groups(records, va: str, vb: str, items, ra: dict[str, bool], rb: dict[str, bool]) -> dict[str, Any]:
    """The repair groups of A -> B: the patch is what B's patch shard teaches that A's did not."""
    from .groups import measure, patched_concepts, taught_statements

    def patch_samples(vid):
        return {r.key: r for r in records(vid, "synth")
                if type(r).__name__ == "Sample" and r.origin == "patch"}

    new = [s for k, s in patch_samples(vb).items() if k not in patch_samples(va)]
    concepts = [r for r in records(vb, "extract") if type(r).__name__ == "Concept"]
    return measure(items, ra, rb, patched_concepts(new, concepts), taught_statements(new))


def _accuracy(cat, vid: str) -> dict[str, Any]:
    test = versions.version_manifests(cat, vid).get("test:all")
    return dict(test["extra"].get("accuracy", {})) if test else {}


def render(result: dict[str, Any]) -> str:
    lines = [f"diff {result['from']} -> {result['to']}"]
    for kind in KINDS:
        lines.append(f"  {kind:<11} +{result['added'][kind]:<6} -{result['removed'][kind]}")
    r = result["results"]
    fa, ta = result["accuracy"]["from"], result["accuracy"]["to"]
    untested = [name for name, acc in (("from", fa), ("to", ta)) if not acc]
    if untested:  # no test results in that version: nothing was fixed or broken, nor scored as 0
        which = " and ".join(result[n] for n in untested)
        lines.append(f"  results     not tested in {which} (`proda build` runs its test stage)")
    else:
        lines.append(f"  results     fixed {r['fixed']}  broken {r['broken']}")

    def cell(acc: dict, value) -> str:
        return f"{value:>7.3f}" if acc and value is not None else f"{'-':>7}"

    if fa or ta:
        lines.append(f"  {'accuracy':<22} {'from':>7} {'to':>7}")
        for split in ("all", "dev", "holdout"):
            lines.append(f"  {split:<22} {cell(fa, fa.get(split))} {cell(ta, ta.get(split))}")
        for d in sorted(set(fa.get("by_discipline", {})) | set(ta.get("by_discipline", {}))):
            lines.append(f"  {d:<22} {cell(fa, fa.get('by_discipline', {}).get(d))} "
                         f"{cell(ta, ta.get('by_discipline', {}).get(d))}")
    lines += render_groups(result)
    return "\n".join(lines)


def render_groups(result: dict[str, Any]) -> list[str]:
    """The repair groups as table lines (empty when the diff has none)."""
    groups = result.get("groups") or {}
    if not groups:
        return []
    lines = [f"  {'repair group':<17} {'n':>5} {'from':>7} {'to':>7} {'delta':>7}  {'95% CI':<17} {'p':>8}"
             f" {'docs':>4} by document"]
    for name, g in groups.items():
        lo, hi = g["ci95"]
        by_doc = ""
        if "ci95_documents" in g:  # resampling documents, not items (items of a document go together)
            dlo, dhi = g["ci95_documents"]
            by_doc = f" {g['documents']:>4} [{dlo:+.3f}, {dhi:+.3f}]"
        lines.append(f"  {name:<17} {g['n']:>5} {g['from']:>7.3f} {g['to']:>7.3f} {g['delta']:>+7.3f}  "
                     f"[{lo:+.3f}, {hi:+.3f}] {g['p']:>8.3g}{by_doc}")
    r = result.get("repair")
    if r:
        lo, hi = r["ci95"]
        lines.append(f"  dev_failed fixed beyond churn (vs holdout_failed): {r['delta']:+.3f} "
                     f"[{lo:+.3f}, {hi:+.3f}], p {r['p']:.3g}")
    r = result.get("retention")
    if r:
        lo, hi = r["ci95"]
        lines.append(f"  dev_passed broken beyond churn (vs holdout_passed): {r['delta']:+.3f} "
                     f"[{lo:+.3f}, {hi:+.3f}], p {r['p']:.3g}")
    for suite, metrics in (result.get("suites") or {}).items():
        for key, m in metrics.items():
            err = f" ± {m['stderr']:.3f}" if m.get("stderr") is not None else ""
            lines.append(f"  suite {suite} {key:<28} {m['from']:>7.3f} {m['to']:>7.3f} {m['delta']:>+7.3f}{err}")
    return lines
