"""bench (the Tester, before any training): L3 chains -> multiple-choice benchmark Items.

Each chain yields an item asking for its conclusion (and one asking for a hidden middle step),
with distractors from three operators on the knowledge structure: adjacency substitution,
relation inversion, chain truncation (proda/stages/bench_items.py). Items are split into ``dev``
and ``holdout`` by chain key. Memoised per chain; a chain's input is the chain, its statements,
its concepts and the concepts of its own document (the adjacency pool), so editing one document
rebuilds only the items derived from it. Run alone: ``proda build --until bench``.
"""

from __future__ import annotations

from ..hashing import digest
from ..records import Chain, Concept, Statement
from ..storage import encode_records
from . import Stage


class Bench(Stage):
    name = "bench"
    version = 4  # bump when bench_items' output changes (4: chain views of concepts)
    sections = ("bench",)

    def file_deps(self, project, shard):
        from ..engine import manifest_path

        return [manifest_path(project.build, "extract", shard)]

    def run(self, ctx):
        from .bench_items import items_for_chain

        cfg = ctx.config.bench
        records = ctx.upstream("extract")
        units = [(digest([encode_records(list(u[0:1]) + list(u[1]) + list(u[2]) + list(u[3]))]), u)
                 for u in chain_units(records)]
        return ctx.map(units, lambda u: items_for_chain(u[0], u[1], u[2], u[3], cfg), label="chain")


def chain_units(records):
    """(chain, its statements, its concepts, the concepts of its document) for every chain."""
    chains = [r for r in records if isinstance(r, Chain)]
    statements = [r for r in records if isinstance(r, Statement)]
    concepts = [r for r in records if isinstance(r, Concept)]
    by_chain: dict[str, list[Statement]] = {}
    for s in statements:
        by_chain.setdefault(s.chain, []).append(s)
    concepts_of_statement: dict[str, list[Concept]] = {}
    for c in concepts:
        for k in c.statements:
            concepts_of_statement.setdefault(k, []).append(c)
    by_doc = concepts_by_doc({s.key: s for s in statements}, concepts)
    for chain in chains:
        own = by_chain.get(chain.key, [])
        own_keys = {s.key for s in own}
        seen, mine = set(), []
        for s in own:
            for c in concepts_of_statement.get(s.key, []):
                if c.key not in seen:
                    seen.add(c.key)
                    mine.append(_view(c, own_keys))
        neighbours = [_view(c, (), aliases=False) for c in by_doc.get(chain.doc, []) if c.key not in seen]
        yield chain, own, mine, neighbours


def concepts_by_doc(statements: dict[str, Statement], concepts: list[Concept]) -> dict[str, list[Concept]]:
    """The concepts each document mentions (through its statements), in concept order: a chain's
    adjacency pool here, a failed item's neighbours in ``proda debug``."""
    by_doc: dict[str, list[Concept]] = {}
    for c in concepts:
        for doc in sorted({statements[k].doc for k in c.statements if k in statements}):
            by_doc.setdefault(doc, []).append(c)
    return by_doc


def _view(concept: Concept, statements, aliases: bool = True) -> Concept:
    """A concept as one chain's items see it: name, aliases and category. Parent statements outside
    the chain and the definition (which other documents can change) do not reach its items, so
    they are left out — an edit elsewhere in the discipline then leaves this unit alone. A
    neighbour (an adjacency candidate) is offered by its name alone: the surface forms other
    documents merge into it are not this chain's business."""
    import msgspec

    return msgspec.structs.replace(concept, definition="", aliases=concept.aliases if aliases else [],
                                   statements=[k for k in concept.statements if k in statements])


STAGE = Bench()
