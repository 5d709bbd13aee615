"""Does the benchmark measure knowledge? The ``validity`` block of ``proda stats`` and ``proda report``.

- ``chance``: the expected score of a guess (1 / options, averaged over items);
- ``option_only``: what each option-only baseline scores per split (proda/bench/baselines.py) — a
  benchmark whose items need their questions keeps every one within a few points of chance;
- ``intervals``: each of those figures' bootstrap 95% interval over the split's items (by the same
  names): on a hundred items a figure moves by several points with the items drawn, so a baseline
  a few points above chance is evidence of a tell only when its interval leaves chance out;
- ``shared_sentences``: sentences that occur in the items or chains of both splits (0 when the split
  leaks nothing, proda/bench/split.py);
- ``dropped_items``: items the bench stage could not make symmetric (``proda stats --dropped`` lists
  them with their reasons), and ``items``: how many each split holds.

Computed from the finished bench and extract shards when asked (a fraction of a second on the
example project; the classifier is the costly part, linear in the items).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..project import Project


def validity(project: "Project") -> dict[str, Any]:
    from ..bench import baselines
    from ..bench.split import shared_sentences, split_texts
    from ..engine.outputs import load_shard, read_manifest
    from ..records import Chain, Item

    items = []
    chains: dict[str, Chain] = {}
    dropped = 0
    for d in project.disciplines():
        manifest = read_manifest(project.build, "bench", d)
        if manifest is None:
            continue
        dropped += manifest["kinds"].get("droppeditem", 0)
        items += load_shard(project.build, "bench", d, (Item,))
        chains.update((r.key, r) for r in load_shard(project.build, "extract", d, (Chain,)))
    chance = round(sum(1 / len(i.options) for i in items) / len(items), 4) if items else 0.0
    intervals: dict[str, dict[str, Any]] = {}
    option_only = baselines.option_only(items, intervals)
    return {
        "chance": chance,
        "option_only": option_only,
        "intervals": intervals,
        "shared_sentences": shared_sentences(split_texts(items, chains)),
        "dropped_items": dropped,
        "items": {s: sum(i.split == s for i in items) for s in ("dev", "holdout")},
    }


def render(v: dict[str, Any]) -> list[str]:
    """Text lines: each baseline per split beside chance, shared sentences, dropped items."""
    def show(x, ci):
        if x is None:
            return f"{'-':<19}"
        return f"{x:.3f}" + (f" ({ci[0]:.3f}-{ci[1]:.3f})" if ci else " " * 14)

    intervals = v.get("intervals", {})
    lines = [f"option-only baselines (chance {v['chance']:.3f}; items dev {v['items']['dev']}, "
             f"holdout {v['items']['holdout']}; 95% intervals over the items):"]
    for name, by_split in v["option_only"].items():
        ci = intervals.get(name, {})
        lines.append(f"  {name:<14} dev {show(by_split.get('dev'), ci.get('dev'))}  "
                     f"holdout {show(by_split.get('holdout'), ci.get('holdout'))}".rstrip())
    lines.append(f"sentences in both splits: {v['shared_sentences']}; items dropped: {v['dropped_items']}")
    return lines
