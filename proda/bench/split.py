"""The dev/holdout split, by document, with no sentence in both halves.

``dev`` is what the debugger may diagnose and patch; ``holdout`` it never sees. An item leaks when its
text, or a step of its chain, also sits in the other half: a patch written for a dev chain then
teaches a holdout answer. Chunks overlap (``chunk.overlap``), so one sentence can be a step of
several chains of a document; the same boilerplate sentence can open several documents. So the
unit of the split is a *group* of documents: documents that share a chain sentence (normalised) are
one group (:func:`groups`), and every group goes whole to one side (:func:`assign`).

Within each discipline the groups with items go, largest first, to the split furthest below its
share of the items (``bench.holdout`` for holdout), so the splits get items in about that proportion
and every discipline with items from two groups or more is tested on both; groups without items are
dealt by a hash of their first document's path. A group spanning disciplines (rare: a sentence
shared across them) is placed by its hash alone. Editing a document can move a group only by
changing how many items the groups have, and then only the ``split`` field of items changes, never
their content (items are memoised without it).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from ..hashing import digest
from ..records import Chain


def sentence_key(text: str) -> str:
    """A sentence as compared across splits: lower case letters and digits only."""
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text.lower()).split())


def chain_sentences(chain: Chain) -> set[str]:
    """The sentences a chain is made of: its steps, preconditions and context sentences."""
    texts = [s.text for s in (*chain.steps, *chain.context)] + list(chain.preconditions)
    return {k for k in map(sentence_key, texts) if k}


def _deal(n: int, ratio: float, start: float) -> list[str]:
    """Splits for n groups in order: systematic sampling from ``start`` (in [0, 1)), so a ``ratio``
    share is holdout on average, spread evenly, and both are present when n >= 2."""
    if ratio <= 0 or n == 0:
        return ["dev"] * n
    if ratio >= 1:
        return ["holdout"] * n
    out = ["holdout" if math.floor((i + 1) * ratio + start) > math.floor(i * ratio + start) else "dev"
           for i in range(n)]
    if n >= 2 and "holdout" not in out:
        out[-1] = "holdout"
    if n >= 2 and "dev" not in out:
        out[0] = "dev"
    return out


Group = tuple[str, str]  # (discipline, path) of a group's first document: content-free


def groups(chains: Iterable[Chain], documents: Mapping[str, tuple[str, str]]) -> dict[str, Group]:
    """doc key -> its group, for every document of ``documents`` (key -> (discipline, path)):
    documents sharing a chain sentence, directly or through others, are one group."""
    parent = {d: d for d in documents}

    def find(d: str) -> str:
        while parent[d] != d:
            parent[d] = parent[parent[d]]
            d = parent[d]
        return d

    seen: dict[str, str] = {}
    for chain in chains:
        if chain.doc not in parent:
            continue
        for sentence in chain_sentences(chain):
            a, b = find(seen.setdefault(sentence, chain.doc)), find(chain.doc)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for d in documents:
        members.setdefault(find(d), []).append(d)
    out: dict[str, Group] = {}
    for docs in members.values():
        first = documents[min(docs, key=lambda d: documents[d])]
        out.update((d, first) for d in docs)
    return out


def assign(of: Mapping[str, Group], documents: Mapping[str, tuple[str, str]], discipline: str,
           items: Mapping[Group, int], ratio: float) -> dict[Group, str]:
    """The split of every group with a document in ``discipline``. ``of`` maps every document of the
    project to its group, ``documents`` every document to (discipline, path); ``items`` counts the
    items of each group.

    Groups with items go, largest first (ties by hash), to the split furthest below its share of the
    discipline's items (``ratio`` for holdout): the splits get items in about that proportion, and
    both get some whenever two groups have items. Groups without items are dealt by hash. A group
    spanning disciplines is placed by its hash alone, so that each discipline's shard places it
    alike without seeing the others' items."""
    spread: dict[Group, set[str]] = {}
    for d, group in of.items():
        spread.setdefault(group, set()).add(documents[d][0])
    relevant = {group for d, group in of.items() if documents[d][0] == discipline}
    out: dict[Group, str] = {}
    for group in relevant:
        if len(spread[group]) > 1:
            fraction = int(digest(["split", *group])[:12], 16) / 16**12
            out[group] = "holdout" if fraction < ratio else "dev"
    mine = sorted(relevant - set(out), key=lambda g: digest(["split", *g]))
    counted = sorted((g for g in mine if items.get(g, 0) > 0), key=lambda g: -items[g])  # stable: hash order on ties
    total = sum(items[g] for g in counted)
    have = {"dev": 0, "holdout": 0}
    goal = {"dev": (1 - ratio) * total, "holdout": ratio * total}
    first = "holdout" if int(digest(["split-first", discipline])[:8], 16) % 2 else "dev"  # who wins a tie
    for group in counted:
        split = max(("holdout", "dev"), key=lambda s: (goal[s] - have[s], s == first))
        out[group] = split
        have[split] += items[group]
    start = int(digest(["split-start", discipline])[:8], 16) / 16**8
    rest = [g for g in mine if g not in out]
    out.update(zip(rest, _deal(len(rest), ratio, start)))
    return out


def shared_sentences(texts: Mapping[str, Iterable[str]]) -> int:
    """How many sentences occur in both ``texts["dev"]`` and ``texts["holdout"]``."""
    dev = {k for k in map(sentence_key, texts.get("dev", ())) if k}
    holdout = {k for k in map(sentence_key, texts.get("holdout", ())) if k}
    return len(dev & holdout)


def split_texts(items, chains: Mapping[str, Chain]) -> dict[str, list[str]]:
    """The text of each split: every option of its items and every step and precondition of their
    chains (the stems are made of those)."""
    out: dict[str, list[str]] = {"dev": [], "holdout": []}
    for item in items:
        bucket = out.setdefault(item.split, [])
        bucket.extend(o.text for o in item.options)
        chain = chains.get(item.chain)
        if chain is not None:
            bucket.extend(s.text for s in (*chain.steps, *chain.context))
            bucket.extend(chain.preconditions)
    return out
