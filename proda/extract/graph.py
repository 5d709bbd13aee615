"""Queries over the extracted knowledge graph (L3 chains -> L2 statements -> L1 concepts)."""

from __future__ import annotations

from ..records import Chain, Concept, Statement


def orphans(chains: list[Chain], statements: list[Statement], concepts: list[Concept]) -> int:
    """L2/L1 nodes not reachable from an L3 chain (the invariant says: zero)."""
    chain_keys = {c.key for c in chains}
    reachable = {s.key for s in statements if s.chain in chain_keys}
    bad = sum(1 for s in statements if s.key not in reachable)
    bad += sum(1 for c in concepts if not any(k in reachable for k in c.statements))
    return bad


def concepts_by_doc(statements: dict[str, Statement], concepts: list[Concept]) -> dict[str, list[Concept]]:
    """The concepts each document mentions (through its statements), in concept order: a chain's
    adjacency pool here, a failed item's neighbours in ``proda debug``."""
    by_doc: dict[str, list[Concept]] = {}
    for c in concepts:
        for doc in sorted({statements[k].doc for k in c.statements if k in statements}):
            by_doc.setdefault(doc, []).append(c)
    return by_doc
