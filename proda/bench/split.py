"""The dev/holdout split, by groups of chains, with no sentence in both halves.

``dev`` is what the debugger may diagnose and patch; ``holdout`` it never sees. An item leaks when its
text, or a step of its chain, also sits in the other half: a patch written for a dev chain then
teaches a holdout answer. Chunks overlap (``chunk.overlap``), so one sentence can be a step of
several chains of a document; a chain also carries the context sentences of its chunk, which other
chains of that chunk may carry too; the same boilerplate sentence can open several documents. So the
unit of the split is a *group* of chains: chains that share a sentence (normalised: steps,
preconditions, context), directly or through other chains, of any document, are one group
(:func:`groups`), and every group goes whole to one side (:func:`assign`). Options count too: an
item's option that is a sentence of another group's chain, or another group's option, joins the
two groups (:func:`joined`). A document with several groups can be tested on both sides — what the
dev side teaches about its concepts can then show on holdout questions about the same concepts, in
other sentences (the repair report's ``holdout_related`` group) — and no sentence is on both.

A document of two groups or more with items splits them itself (:func:`sides`, inside its memoised
bench unit, so its option sets are balanced per side). The other groups with items go, within each
discipline, largest first, to the split furthest below its share of the items (``bench.holdout``
for holdout), so the splits get items in about that proportion and every discipline with items
from two groups or more is tested on both; groups without items are dealt by a hash of their name.
A group spanning disciplines (rare: a sentence shared across them) is placed by its hash alone. A
group is named by its first document's path and its place among the groups that start in that
document (:data:`Group`), never by content: editing a document can move another document's group
only by changing item counts, and then only the ``split`` field of items changes, never their
content.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence

from ..hashing import digest
from ..records import Chain


_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def sentence_key(text: str) -> str:
    """A sentence as compared across splits: lower case letters and digits only, one space between
    runs of them."""
    return _NOT_ALNUM.sub(" ", text.lower()).strip()


def chain_sentences(chain: Chain, keys: dict[str, str] | None = None) -> set[str]:
    """The sentences a chain is made of: its steps, preconditions and context sentences. ``keys``
    caches :func:`sentence_key` by text across chains (the chains of a chunk share its context)."""
    texts = [s.text for s in (*chain.steps, *chain.context)] + list(chain.preconditions)
    if keys is None:
        return {k for k in map(sentence_key, texts) if k}
    out = set()
    for text in texts:
        k = keys.get(text)
        if k is None:
            k = keys[text] = sentence_key(text)
        if k:
            out.add(k)
    return out


def all_sentences(chains: Iterable[Chain], known: Mapping[str, set[str]] | None = None) -> Mapping[str, set[str]]:
    """chain key -> :func:`chain_sentences`, for every chain (each sentence keyed once); ``known``
    when the caller has it already."""
    if known is not None:
        return known
    keys: dict[str, str] = {}
    return {c.key: chain_sentences(c, keys) for c in chains}


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


Group = tuple[str, str, int]  # (discipline, path) of a group's first document, and its place among the groups starting there


class _Joins:
    """Union-find over hashable names: each set is named by its least member."""

    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        parent = self.parent
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(self, a, b) -> None:
        a, b = self.find(a), self.find(b)
        if a != b:
            self.parent[max(a, b)] = min(a, b)


def components(chains: Sequence[Chain], sentences: Mapping[str, set[str]] | None = None) -> list[list[Chain]]:
    """The chains in groups: chains sharing a sentence, directly or through others, are one group;
    groups in the order of their first chain, chains in their given order. ``sentences``: each
    chain's sentences by chain key (:func:`all_sentences`), when already known."""
    sentences = all_sentences(chains, sentences)
    joins = _Joins()
    seen: dict[str, str] = {}
    for chain in chains:
        for sentence in sentences[chain.key]:
            joins.join(seen.setdefault(sentence, chain.key), chain.key)
    members: dict[str, list[Chain]] = {}
    for c in chains:
        members.setdefault(joins.find(c.key), []).append(c)
    return list(members.values())


def groups(chains: Iterable[Chain], documents: Mapping[str, tuple[str, str]],
           sentences: Mapping[str, set[str]] | None = None) -> dict[str, Group]:
    """chain key -> its group, for every chain of a document of ``documents`` (key -> (discipline,
    path)): chains sharing a sentence, directly or through others, are one group."""

    def where(c: Chain) -> tuple:  # a chain's place: its document, then its first step's offset
        return (*documents[c.doc], min((s.span.start for s in c.steps), default=0), c.key)

    found = components([c for c in chains if c.doc in documents], sentences)
    out: dict[str, Group] = {}
    place: dict[tuple[str, str], int] = {}
    for first, members in sorted(((min(map(where, m)), m) for m in found), key=lambda x: x[0]):
        doc = first[:2]
        name = (*doc, place.setdefault(doc, 0))
        place[doc] += 1
        out.update((c.key, name) for c in members)
    return out


def _fill(counts: Sequence[int], ratio: float, first: str, have: Mapping[str, int] | None = None) -> list[str]:
    """Splits for groups of ``counts`` items, in the given order (largest first): each to the split
    furthest below its share (``ratio`` for holdout) of all items, those already ``have`` placed
    included; ``first`` wins a tie. The last goes to the split no item went to yet, if any, so two
    groups with items or more always give both splits."""
    have = dict(have or {"dev": 0, "holdout": 0})
    total = sum(counts) + sum(have.values())
    goal = {"dev": (1 - ratio) * total, "holdout": ratio * total}
    out = []
    for n, count in enumerate(counts):
        split = max(("holdout", "dev"), key=lambda s: (goal[s] - have[s], s == first))
        other = "holdout" if split == "dev" else "dev"
        if n == len(counts) - 1 and total > count and 0 < ratio < 1 and not have[other]:
            split = other
        out.append(split)
        have[split] += count
    return out


def sides(counts: Sequence[int], ratio: float, seed: str) -> list[str]:
    """The split of each of one document's chain groups (``counts``: their items, each > 0): largest
    first (ties: by order), each to the split furthest below its share of the document's items, the
    first placed by ``seed`` (:func:`_fill`): two groups or more always get both splits."""
    order = sorted(range(len(counts)), key=lambda i: (-counts[i], i))
    first = "holdout" if int(digest(["sides", seed])[:8], 16) % 2 else "dev"
    out = [""] * len(counts)
    for i, split in zip(order, _fill([counts[i] for i in order], ratio, first)):
        out[i] = split
    return out


def disciplines(of: Mapping[str, Group], chains: Iterable[Chain]) -> dict[Group, set[str]]:
    """The disciplines each group's chains come from."""
    out: dict[Group, set[str]] = {}
    for c in chains:
        if c.key in of:
            out.setdefault(of[c.key], set()).add(c.discipline)
    return out


def assign(spread: Mapping[Group, set[str]], discipline: str, items: Mapping[Group, int],
           ratio: float, placed: Mapping[Group, str] | None = None) -> dict[Group, str]:
    """The split of every group with a chain in ``discipline``. ``spread`` maps every group of the
    project to the disciplines of its chains (:func:`disciplines`); ``items`` counts the items of
    each group; ``placed`` holds the groups whose document already chose their split (a document of
    several groups splits them itself, :func:`sides`).

    A group spanning disciplines is placed by its hash alone, so that each discipline's shard places
    it alike without seeing the others' items. The placed groups keep their split; the other groups
    with items go, largest first (ties by hash), to the split furthest below its share of the
    discipline's items (``ratio`` for holdout): the splits get items in about that proportion, and
    both get some whenever two groups have items. Groups without items are dealt by hash."""
    placed = placed or {}
    relevant = {group for group, found in spread.items() if discipline in found}
    out: dict[Group, str] = {}
    for group in relevant:
        if len(spread[group]) > 1:
            fraction = int(digest(["split", *group])[:12], 16) / 16**12
            out[group] = "holdout" if fraction < ratio else "dev"
        elif group in placed:
            out[group] = placed[group]
    mine = sorted(relevant - set(out), key=lambda g: digest(["split", *g]))
    counted = sorted((g for g in mine if items.get(g, 0) > 0), key=lambda g: -items[g])  # stable: hash order on ties
    have = {"dev": 0, "holdout": 0}
    for g, split in out.items():
        if len(spread[g]) == 1:
            have[split] += items.get(g, 0)
    first = "holdout" if int(digest(["split-first", discipline])[:8], 16) % 2 else "dev"  # who wins a tie
    out.update(zip(counted, _fill([items[g] for g in counted], ratio, first, have)))
    start = int(digest(["split-start", discipline])[:8], 16) / 16**8
    rest = [g for g in mine if g not in out]
    out.update(zip(rest, _deal(len(rest), ratio, start)))
    return out


def sentence_groups(of: Mapping[str, Group], chains: Iterable[Chain],
                    sentences: Mapping[str, set[str]] | None = None) -> dict[str, Group]:
    """sentence key -> the group of the chains stating it (one group: chains sharing a sentence are
    one group)."""
    chains = [c for c in chains if c.key in of]
    sentences = all_sentences(chains, sentences)
    return {k: of[c.key] for c in chains for k in sentences[c.key]}


def joined(items, of: Mapping[str, Group], stated: Mapping[str, Group], spread: Mapping[Group, set[str]],
           discipline: str) -> tuple[dict[Group, Group], set[str]]:
    """What the items' options add to the groups of one discipline: an option that is a sentence of
    another group's chain, or an option of another group's item, joins the two groups (the split
    must keep a sentence on one side, distractors included). Returns group -> its joined group (the
    least name) and the keys of items that cannot be joined — their option is a sentence of a group
    of another discipline, or their own group spans disciplines — which the bench drops (the other
    discipline's shard cannot see this one's options, so a join would not be made alike there)."""
    joins = _Joins()
    local = lambda g: spread.get(g, set()) == {discipline}  # noqa: E731
    option_of: dict[str, Group] = {}
    crossing: set[str] = set()
    for item in sorted(items, key=lambda i: i.key):
        own = of.get(item.chain)
        if own is None:
            continue
        texts = [sentence_key(o.text) for o in item.options]
        found = {g for k in texts for g in (stated.get(k), option_of.get(k)) if g is not None and g != own}
        if found and (not local(own) or not all(local(g) for g in found)):
            crossing.add(item.key)
            continue
        for k in texts:
            option_of.setdefault(k, own)
        for g in found:
            joins.join(own, g)
    return {g: joins.find(g) for g in list(joins.parent)}, crossing


def by_discipline(spread: Mapping[Group, set[str]]) -> dict[str, list[Group]]:
    """discipline -> the groups with a chain in it (what :func:`place` looks at for one shard)."""
    out: dict[str, list[Group]] = {}
    for g, found in spread.items():
        for d in found:
            out.setdefault(d, []).append(g)
    return out


def place(records: list, of: Mapping[str, Group], spread: Mapping[Group, set[str]],
          documents: Mapping[str, tuple[str, str]], stated: Mapping[str, Group], discipline: str,
          ratio: float, mine: Iterable[Group] | None = None) -> list:
    """One discipline's bench records with their final split: groups joined by the items' options
    (:func:`joined`; an item that cannot be joined becomes a ``DroppedItem``, ``shared_sentence``),
    the groups a document of several groups placed itself keeping that split (the first document
    to decide, by path, holds), the rest placed by :func:`assign`. ``mine``: the groups with a
    chain in ``discipline`` (:func:`by_discipline`), when known — then the shard's work grows with
    its own groups, not with every group of the project."""
    import msgspec

    from ..records import DroppedItem, Item, make

    root, crossing = joined([r for r in records if isinstance(r, Item)], of, stated, spread, discipline)
    records = [make(DroppedItem, discipline=r.discipline, chain=r.chain, doc=r.doc, variant=r.variant,
                    split=r.split, reason="shared_sentence",
                    detail="an option is a sentence of another discipline's chains, which may be on the other split",
                    stem=r.stem, options=r.options) if r.key in crossing else r for r in records]
    def group(chain: str) -> Group | None:  # a chain's group, joined by the options
        g = of.get(chain)
        return root.get(g, g) if g is not None else None

    # each joined group's disciplines; only a group with a chain here matters to assign(), and a
    # joined group has one only through a member of its own with a chain here or a joined member
    if mine is None:
        mine = [g for g, found in spread.items() if discipline in found]
    joint: dict[Group, set[str]] = {}
    for g in dict.fromkeys([*mine, *root]):
        joint.setdefault(root.get(g, g), set()).update(spread.get(g, ()))
    counts: dict[Group, int] = {}
    placed: dict[Group, str] = {}
    for r in sorted(records, key=lambda r: (documents.get(r.doc, ("", "")), r.chain)):
        g = group(r.chain)
        if isinstance(r, Item) and g is not None:
            counts[g] = counts.get(g, 0) + 1
            if r.split:
                placed.setdefault(g, r.split)
    splits = assign(joint, discipline, counts, ratio, placed)
    return [msgspec.structs.replace(r, split=splits.get(group(r.chain), "dev")) for r in records]


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
