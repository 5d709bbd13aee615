"""bench (the Tester, before any training): L3 chains -> multiple-choice benchmark Items.

Each chain yields an item asking for its conclusion (and one asking for a hidden middle step),
with distractors from three operators on the knowledge structure: adjacency substitution,
relation inversion, chain truncation (proda/bench/items.py). Items are split into ``dev``
and ``holdout`` by chain key. Memoised per chain; a chain's input is the chain, its statements,
its concepts and the concepts of its own document (the adjacency pool), so editing one document
rebuilds only the items derived from it. Run alone: ``proda build --until bench``.
"""

from __future__ import annotations

import functools

from typing import TYPE_CHECKING

from ..engine.stage import Stage
from ..engine.storage import encode_records
from ..hashing import digest

if TYPE_CHECKING:
    from ..project import Project


class Bench(Stage):
    name = "bench"
    version = 4  # bump when bench_items' output changes (4: chain views of concepts)
    sections = ("bench",)

    def file_deps(self, project: "Project", shard):
        from ..engine.outputs import manifest_path

        return [manifest_path(project.build, "extract", shard)]

    def run(self, ctx):
        from ..bench.units import chain_units

        cfg = ctx.config.bench
        records = ctx.upstream("extract")
        units = [(digest([encode_records(list(u[0:1]) + list(u[1]) + list(u[2]) + list(u[3]))]), u)
                 for u in chain_units(records)]
        return ctx.map(units, functools.partial(chain_items, cfg=cfg), label="chain")


def chain_items(unit, *, cfg):
    """A memo unit: the items of one (chain, statements, concepts, neighbours)."""
    from ..bench.items import items_for_chain

    return items_for_chain(unit[0], unit[1], unit[2], unit[3], cfg)


STAGE = Bench()
