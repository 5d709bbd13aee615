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
    neighbour_view: dict[int, Concept] = {}  # a neighbour's view is the same for every chain: made once
    places: dict[int, dict[str, list[int]]] = {}  # per concept: statement key -> its places in c.statements
    for chain in chains:
        own = by_chain.get(chain.key, [])
        own_keys = {s.key for s in own}
        seen, mine = set(), []
        for s in own:
            for c in concepts_of_statement.get(s.key, []):
                if c.key not in seen:
                    seen.add(c.key)
                    at = places.get(id(c))
                    if at is None:
                        at = places[id(c)] = {}
                        for i, k in enumerate(c.statements):
                            at.setdefault(k, []).append(i)
                    mine.append(_view(c, own_keys, at=at))
        neighbours = []
        for c in by_doc.get(chain.doc, []):
            if c.key not in seen:
                view = neighbour_view.get(id(c))
                if view is None:
                    view = neighbour_view[id(c)] = _view(c, (), aliases=False)
                neighbours.append(view)
        yield chain, own, mine, neighbours


def _view(concept: Concept, statements, aliases: bool = True, at: dict[str, list[int]] | None = None) -> Concept:
    """A concept as one chain's items see it: name, aliases and category. Parent statements outside
    the chain and the definition (which other documents can change) do not reach its items, so
    they are left out — an edit elsewhere in the discipline then leaves this unit alone. A
    neighbour (an adjacency candidate) is offered by its name alone: the surface forms other
    documents merge into it are not this chain's business."""
    import msgspec

    if not statements:
        kept = []
    elif at is not None:  # the places of each statement key in concept.statements: found by the chain's keys
        kept = [concept.statements[i] for i in sorted(i for k in statements if k in at for i in at[k])]
    else:
        kept = [k for k in concept.statements if k in statements]
    return msgspec.structs.replace(concept, definition="", aliases=concept.aliases if aliases else [],
                                   statements=kept)


def document_units(records):
    """(doc key, [chain unit, ...]) for every document with chains, in the records' order."""
    by_doc: dict[str, list] = {}
    for unit in chain_units(records):
        by_doc.setdefault(unit[0].doc, []).append(unit)
    yield from by_doc.items()
