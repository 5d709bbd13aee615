"""``proda stats``: counts of every artifact kind per discipline, like the paper's dataset table.

The counts are read from the stage manifests alone (each carries its per-kind counts and facts such
as the orphan and contamination counts), so they are instant at any scale; ``validity`` (does the
benchmark need its questions? proda/report/validity.py) reads the items.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..engine.outputs import read_manifest

if TYPE_CHECKING:
    from ..project import Project

COLUMNS = ("documents", "dropped_documents", "chunks", "chains", "statements", "concepts",
           "orphans", "items", "samples", "contaminated")
_FROM = {  # (stage, manifest kind or extra key) per column
    "documents": ("ingest", "document"), "dropped_documents": ("ingest", "dropped"),
    "chunks": ("chunk", "chunk"), "chains": ("extract", "chain"),
    "statements": ("extract", "statement"), "concepts": ("extract", "concept"),
    "orphans": ("extract", "orphans"), "items": ("bench", "item"), "samples": ("synth", "sample"),
    "contaminated": ("synth", "contaminated"),
}


def stats(project: "Project") -> dict:
    shards = project.disciplines() + ["patches"]
    by: dict[str, dict[str, int]] = {}
    for shard in shards:
        row = {c: 0 for c in COLUMNS}
        manifests = {stage: read_manifest(project.build, stage, shard) for stage, _ in set(_FROM.values())}
        for column, (stage, kind) in _FROM.items():
            manifest = manifests[stage]
            if manifest:
                row[column] = manifest["kinds"].get(kind, 0) or manifest.get("extra", {}).get(kind, 0)
        if shard != "patches" or any(row.values()):
            by[shard] = row
    totals = {c: sum(r[c] for r in by.values()) for c in COLUMNS}
    from .validity import validity

    return {**totals, "by_discipline": by, "validity": validity(project)}


def render_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="proda stats", pad_edge=False)
    table.add_column("discipline", no_wrap=True)
    short = ("documents", "chunks", "chains", "statements", "concepts", "items", "samples",
             "orphans", "contaminated", "dropped_documents")
    heads = ("docs", "chunks", "chains", "stmts", "concepts", "items", "samples", "orphans",
             "contam", "dropped")
    for head in heads:
        table.add_column(head, justify="right", no_wrap=True)
    for name, row in result["by_discipline"].items():
        table.add_row(name, *(str(row[c]) for c in short))
    table.add_row("total", *(str(result[c]) for c in short), style="bold")
    console = Console(width=max(120, Console().width))
    console.print(table)
    validity = result.get("validity")
    if validity and sum(validity["items"].values()):
        from .validity import render

        console.print("\n".join(render(validity)), highlight=False)


def dropped(project: "Project") -> dict:
    """``proda stats --dropped``: every document ingest left out, every unit a stage skipped and
    every benchmark item bench could not make, with its reason (and the key ``proda show`` takes)."""
    from ..engine import stage as stages
    from ..engine.outputs import load_shard
    from ..records import Dropped, DroppedItem

    documents = [{"key": r.key, "discipline": r.discipline, "path": r.path, "reason": r.reason,
                  "detail": r.detail}
                 for d in project.disciplines() for r in load_shard(project.build, "ingest", d, (Dropped,))]
    items = [{"key": r.key, "discipline": r.discipline, "variant": r.variant, "reason": r.reason,
              "detail": r.detail}
             for d in project.disciplines() for r in load_shard(project.build, "bench", d, (DroppedItem,))]
    skipped = []
    for name in stages.ORDER:
        for shard in stages.get(name).shards(project):
            manifest = read_manifest(project.build, name, shard)
            for entry in (manifest or {}).get("extra", {}).get("skipped", []) or []:
                skipped.append({"task": f"{name}:{shard}", **entry})
    by_reason = {kind: dict(sorted(Counter(e["reason"] for e in entries).items(), key=lambda x: (-x[1], x[0])))
                 for kind, entries in (("documents", documents), ("items", items))}
    return {"dropped": documents, "skipped": skipped, "items": items, "by_reason": by_reason}


def render_dropped(result: dict) -> str:
    lines = [f"{d['key'][:12]}  {d['reason']:<11} {d['path']}: {d['detail']}" for d in result["dropped"]]
    lines += [f"{'':12}  {'skipped':<11} {s['task']} {s['unit']}: {s['reason']}" for s in result["skipped"]]
    lines += [f"{i['key'][:12]}  {'item':<11} {i['discipline']} {i['variant']}: {i['reason']} ({i['detail']})"
              for i in result.get("items", [])]
    counts = result.get("by_reason", {})
    for kind, label in (("documents", "document(s)"), ("items", "candidate item(s)")):
        if counts.get(kind):  # the last lines: how many of each reason, most common first
            lines.append(f"{sum(counts[kind].values())} {label} dropped: "
                         + ", ".join(f"{n} {reason}" for reason, n in counts[kind].items()))
    return "\n".join(lines) or "nothing was dropped or skipped"
