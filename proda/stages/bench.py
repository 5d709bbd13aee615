"""bench (the Tester, before any training): L3 chains -> multiple-choice benchmark Items.

Each chain yields an item asking for its conclusion (and one asking for a hidden middle step). Its
options are a symmetric, factorial set made with the paper's three operators — adjacency
substitution, relation inversion, chain truncation — chosen so that option-only baselines cannot
decide it (proda/bench/items.py, options.py, baselines.py); a variant that cannot be made so is kept
as a ``DroppedItem`` with its reason.

The split is by groups of chains: chains that share a sentence (of any document) form one group,
and each group goes whole to ``dev`` or ``holdout`` (proda/bench/split.py), so no sentence is in
both; an item's options join its group to any group whose chain states one of them, or whose item
offers one too (an item whose option belongs to another discipline's group is dropped,
``shared_sentence``). The groups are made from every discipline's chains, so each shard depends on
all extract and ingest manifests. Items are memoised per document (its items are chosen together):
a document of two chain groups or more with items splits them itself, and its items carry that
split; a document of one group leaves the split to the stage, which places it with the
discipline's other groups (largest first, to the split short of its share of items, so every
discipline with items in two groups is tested on both splits) and may override a document's word
for a group joined with another. Editing one document rebuilds only the items derived from it;
other documents' items change at most in their ``split`` field. Run alone: ``proda build --until bench``.
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
    version = 8  # bump when the items' output changes (5: symmetric option sets, split by document group;
    # 6: options with as many distinct words and content words each; 7: split by chain group, the
    # direction rule balanced too, items no choice of sets can balance dropped, shown steps as sentences;
    # 8: options join groups, options compared by both keys, both splits for a document of two groups at any ratio)
    sections = ("bench",)

    def cpu_bound(self, project: "Project") -> bool:
        return True

    def file_deps(self, project: "Project", shard):
        from ..engine.stage import manifests

        return manifests(project, "extract") + manifests(project, "ingest")

    def run(self, ctx):
        from ..bench.split import place
        from ..bench.units import document_units
        from ..records import Item

        units = [(digest([encode_records([u[0], *u[1], *u[2], *u[3]]) for u in chains]), chains)
                 for _, chains in document_units(ctx.upstream("extract"))]
        records = ctx.map(units, functools.partial(document_items, cfg=ctx.config.bench), label="document")
        of, spread, documents, stated, mine = chain_groups(ctx)
        records = place(records, of, spread, documents, stated, ctx.shard, ctx.config.bench.holdout,
                        mine.get(ctx.shard, []))
        ctx.extra["splits"] = {s: sum(1 for r in records if isinstance(r, Item) and r.split == s)
                               for s in ("dev", "holdout")}
        return records


def document_items(chains, *, cfg):
    """A memo unit: the items of one document's (chain, statements, concepts, neighbours), their
    split set when the document has two chain groups or more with items, "" otherwise."""
    from ..bench.items import items_for_document

    return items_for_document(chains, cfg, split="")


_groups: dict[str, tuple] = {}  # the chain groups of the last upstream seen, per process


def chain_groups(ctx) -> tuple[dict, dict, dict, dict, dict]:
    """(chain key -> group, group -> its disciplines, doc key -> (discipline, path), sentence key
    -> its group, discipline -> its groups) over every discipline (proda/bench/split.py), computed
    once per set of upstream manifests and process."""
    from ..bench.split import all_sentences, by_discipline, disciplines, groups, sentence_groups
    from ..engine.outputs import read_manifest
    from ..records import Chain, Document

    project = ctx.project
    shards = project.disciplines()
    key = digest([(read_manifest(project.build, stage, d) or {}).get("object")
                  for stage in ("ingest", "extract") for d in shards])
    if key not in _groups:  # the documents and chains only: not their dropped files, nor statements
        documents = {r.key: (r.discipline, r.path) for d in shards for r in ctx.upstream("ingest", d, kinds=(Document,))}
        chains = [r for d in shards for r in ctx.upstream("extract", d, kinds=(Chain,))]
        sentences = all_sentences(chains)  # each chain's sentences, keyed once for both uses
        of = groups(chains, documents, sentences)
        spread = disciplines(of, chains)
        _groups.clear()
        _groups[key] = (of, spread, documents, sentence_groups(of, chains, sentences), by_discipline(spread))
    return _groups[key]


STAGE = Bench()
