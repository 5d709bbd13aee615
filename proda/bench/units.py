"""The units bench memoises: one per document — its chains, each with exactly what its items may
depend on (the items of a document are chosen together, see proda/bench/options.py)."""

from __future__ import annotations

from ..extract.graph import concepts_by_doc
from ..records import Chain, Concept, Statement


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


def _view(concept: Concept, statements, aliases: bool = True) -> Concept:
    """A concept as one chain's items see it: name, aliases and category. Parent statements outside
    the chain and the definition (which other documents can change) do not reach its items, so
    they are left out — an edit elsewhere in the discipline then leaves this unit alone. A
    neighbour (an adjacency candidate) is offered by its name alone: the surface forms other
    documents merge into it are not this chain's business."""
    import msgspec

    return msgspec.structs.replace(concept, definition="", aliases=concept.aliases if aliases else [],
                                   statements=[k for k in concept.statements if k in statements])


def document_units(records):
    """(doc key, [chain unit, ...]) for every document with chains, in the records' order."""
    by_doc: dict[str, list] = {}
    for unit in chain_units(records):
        by_doc.setdefault(unit[0].doc, []).append(unit)
    yield from by_doc.items()
