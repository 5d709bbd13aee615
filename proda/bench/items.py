"""bench (Tester): multiple-choice items from one L3 chain, before any training.

Input → output: one ``Chain`` with its L2 ``Statement``s, the L1 ``Concept``s they reference, the
concepts of its document (the adjacency pool) and the chain's split → ``Item``s (variant
``conclusion``, and ``middle`` when the chain has at least three steps and ``bench.middle_items`` is
on), or a ``DroppedItem`` saying why a variant was not kept.

The stem states the premises once: the chain's steps but the one asked for (and the step offered
as a truncation distractor), and the process and preconditions only where no step already says them
— a precondition copied from the hidden step would give the answer away, one copied from a shown
step says it twice. The options are a factorial set (:mod:`proda.bench.options`) built with the
paper's three operators:

- ``adjacency``: a concept the sentence names is replaced by a concept of the same category from
  the same document (same number, article fixed);
- ``inversion``: the relation of one of the sentence's L2 triples is stated as its opposite
  ("increases" → "decreases", "causes" → "prevents", "precedes" → "follows"), never by adding "not";
- ``truncation``: another step of the chain, one the stem does not show.

Among the sets the chain allows, the one whose option-only baselines (:mod:`proda.bench.baselines`)
score closest to chance is kept. An item without any set of distinct, stem-free options is dropped
(reason ``no_symmetric_set``), and so is one whose every set the options alone give away — the
stem-overlap or negation rule tells its options apart, or they differ in how many distinct words
they have (reason ``options_tell``, with the closest set) — both as a ``DroppedItem``; so is one
whose every set an option-only rule answers (or never answers) beyond what the other items of its
document and split can offset (``unbalanceable``). Option order
is a hash of the item and the option text. Pure functions: no I/O, no global randomness.

Run alone::

    from proda.bench.items import items_for_chain
    records = items_for_chain(chain, statements, concepts, neighbours, BenchConfig(), split="dev")
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

import msgspec

from ..config import BenchConfig
from ..hashing import digest
from ..records import Chain, Concept, DroppedItem, Item, Statement, make
from . import baselines
from .edits import Pool, adjacency, inversion, norm
from .options import OPERATORS, Base, Choice, Layout, balance, candidates, order, ranked, tells, text_keys
from .split import components, sides

__all__ = ["OPERATORS", "items_for_chain", "items_for_document"]

_OPENER = re.compile(r"^(?:therefore|thus|hence|consequently|accordingly|as\s+a\s+(?:result|consequence)|in\s+turn"
                     r"|so|then|finally|next|also|however|in\s+addition|because\s+of\s+this|for\s+this\s+reason"
                     r"|first|second|third|lastly)\b\s*,?\s*", re.IGNORECASE)
_TRUNCATION_LAYOUTS = 2  # steps tried as the truncation distractor
_TELLS = {"stem_overlap": "an option shares more of the stem's words", "no_negation": "options differ in negation",
          "word_counts": "options differ in how many distinct words they have"}


def _sentence(text: str) -> str:
    """A step as the stem shows it: capitalised (unless its first word has a capital inside: "pH",
    "mRNA") and ending in a full stop, like a sentence — a step cut from a longer sentence ("When
    the Sun is low") would otherwise run into the next one."""
    text = " ".join(text.split()).rstrip(" ,;:")
    if text and text[-1] not in ".!?":
        text += "."
    first = text.split(" ", 1)[0]
    return text if any(c.isupper() for c in first[1:]) else text[:1].upper() + text[1:]


def _clean(text: str) -> str:
    """A step as an option: a sentence of its own (:func:`_sentence`) without the connective that
    tied it to the step before ("Therefore, "), so that options cut from a longer sentence and whole
    sentences look alike."""
    text = " ".join(text.split())
    m = _OPENER.match(text)
    if m and len(text) - m.end() > 12:
        text = text[m.end():]
    return _sentence(text)


def _said(text: str, steps: Sequence[str], hidden: Sequence[str]) -> bool:
    """Whether a step already says ``text`` (repeated) or a hidden step nearly does (a give-away)."""
    key = f" {norm(text)} "
    if not key.strip() or any(key in f" {s} " for s in steps):
        return True
    words = baselines.content(text)
    return bool(words) and any(len(words & baselines.content(h)) >= 0.6 * len(words) for h in hidden)


def _stem(chain: Chain, hidden: int, variant: str, unshown: frozenset[int]) -> str:
    """The question: the chain's steps but ``unshown`` (the answer's place marked in a middle item),
    and the process and preconditions where no step says them already."""
    steps = [norm(s.text) for s in chain.steps]
    unseen = [chain.steps[i].text for i in sorted(unshown)]
    parts = []
    process = chain.process.strip().rstrip(".")
    if process and not _said(process, steps, unseen):
        parts.append(f"Consider the process: {process}.")
    pre = [p.strip().rstrip(".") for p in chain.preconditions if p.strip() and not _said(p, steps, unseen)]
    if pre:
        parts.append("Preconditions: " + "; ".join(dict.fromkeys(pre)) + ".")
    for i, step in enumerate(chain.steps):
        if i == hidden and variant == "middle":
            parts.append(f"Step {i + 1}: [missing]")
        elif i not in unshown:
            parts.append(f"Step {i + 1}: {_sentence(step.text)}")
    if variant == "conclusion":
        parts.append("Which statement is the conclusion the chain finally reaches?")
    else:
        parts.append(f"Which statement is the missing step {hidden + 1}?")
    return " ".join(parts)


def _base(text: str, step: int, statements: Sequence[Statement], pool: Pool, reason: str, seed: str,
          stem_words: set[str], context: set[str], longer: bool) -> Base:
    """A sentence and its edits, best first for a symmetric set:

    1. those that keep how many of the stem's words the sentence shares (an edit that swaps a word of
       the stem for one the stem lacks points at the answer: such sets are not kept);
    2. those that swap as many distinct words as they remove (a word said twice stays in the sentence
       when one occurrence is edited, and the edited sentence then overlaps every other option more);
    3. those that keep how many words it shares with the other sentence the options are made from;
    4. those that lengthen it (``longer``; else those that shorten it), so over many items the answer
       is the longer of an edited pair half the time;
    5. those that change its length least, then a hash order (not the extractor's order).

    Edits meeting 1 and 2 are *clean*."""
    covering = [s for s in statements if step in s.steps]
    edits = {"adjacency": adjacency(text, pool), "inversion": inversion(text, covering)}

    def shared(t: str, words: set[str]) -> int:
        return len(baselines.content(t) & words)

    def key(e, op):
        change = len(e.text) - (e.end - e.start)
        wrong_way = change != 0 and (change > 0) != longer
        rest = set(baselines.words(text[:e.start] + " " + text[e.end:]))
        removed = set(baselines.words(text[e.start:e.end])) - rest
        added = set(baselines.words(e.text)) - rest
        # word overlaps tie only for a clean swap: as many distinct words, and content words, in as
        # out ("more" -> "less" puts a content word in place of a function word; see options.even)
        uneven = len(added) != len(removed) or not removed or \
            len(baselines.content(" ".join(added))) != len(baselines.content(" ".join(removed)))
        old = text[e.start:e.end]
        return (shared(e.text, stem_words) != shared(old, stem_words), uneven,
                abs(shared(e.text, context) - shared(old, context)), wrong_way, abs(change),
                digest([seed, op, e.start, e.text]))

    clean = set()
    for op, found in edits.items():
        keys = {e: key(e, op) for e in found}
        found.sort(key=keys.__getitem__)
        clean.update(e for e in found if not keys[e][0] and not keys[e][1])
    return Base(text, edits, reason, frozenset(clean))


def _why(variant: str, step: int, hidden: int, last: int) -> str:
    if variant == "conclusion":
        return f"is step {step + 1}, an earlier step of the chain, not its conclusion"
    if step == last:
        return f"is the chain's conclusion (step {step + 1}), not the missing step {hidden + 1}"
    return f"is step {step + 1} of the chain, not the missing step {hidden + 1}"


class _Prepared(NamedTuple):
    common: dict
    keys: tuple[list[str], list[str]]  # the chain's statement and concept keys
    choices: list[Choice]  # best first; empty: dropped
    dropped: DroppedItem | None


def _stated(chains: Sequence[Chain]) -> set[str]:
    """Every sentence the document's chains state (steps, context, preconditions), normalised as
    written and as an option would be: an edited distractor must not be one of them (it would be a
    true statement of the text, and it would put one sentence in the items of two chain groups,
    which may fall on different splits)."""
    texts = [s.text for c in chains for s in (*c.steps, *c.context)] + [p for c in chains for p in c.preconditions]
    return {k for t in texts for k in text_keys(t) | text_keys(_clean(t))}


def _variant(chain: Chain, statements: Sequence[Statement], concepts: Sequence[Concept], pool: Pool,
             cfg: BenchConfig, variant: str, hidden: int, split: str, stated: set[str] = frozenset()) -> _Prepared:
    seed = digest(["bench", chain.key, variant])
    longer = int(digest([seed, "longer"])[:2], 16) % 2 == 0  # do this item's edits rather lengthen or shorten
    n = len(chain.steps)
    texts = [_clean(s.text) for s in chain.steps]
    answer_words = baselines.content(texts[hidden])
    plain = frozenset({hidden})
    plain_stem = _stem(chain, hidden, variant, plain)
    # Truncation offers a true sentence that is not the one asked for: another step of the chain,
    # hidden from the stem (any step, so long as one is still shown), tried in the order that leaves
    # the answer and that step sharing most evenly in the stem's words, so that neither stands out by
    # repeating the premises. (A sentence of another chain would be told apart by exactly that.)
    offers = []  # (stem, text, step index, reason, steps the stem leaves out)
    for i in range(n):
        if i != hidden and n >= 3:
            unshown = frozenset({hidden, i})
            offers.append((_stem(chain, hidden, variant, unshown), texts[i], i, _why(variant, i, hidden, n - 1),
                           unshown))

    def share(words: set[str], stem_words: set[str]) -> float:
        return len(words & stem_words) / max(1, len(words))

    scored = []
    for stem, text, i, why, unshown in offers:
        stem_words = baselines.content(stem)
        gap = round(abs(share(answer_words, stem_words) - share(baselines.content(text), stem_words)), 1)
        scored.append(((gap, digest([seed, text])), stem, text, i, why, unshown))
    scored.sort(key=lambda x: x[0])
    plain_words = baselines.content(plain_stem)

    def own(*steps: int) -> set[str]:  # the sentences these options are: stated, but not forbidden
        return {k for i in steps for t in (chain.steps[i].text, texts[i]) for k in text_keys(t)}

    layouts = [Layout(plain_stem, _base(texts[hidden], hidden, statements, pool, "", seed, plain_words, plain_words,
                                        longer),
                      None, {k for i in range(n) if i != hidden for k in text_keys(chain.steps[i].text)} | (stated - own(hidden)))]
    for _, stem, text, i, why, unshown in scored[:_TRUNCATION_LAYOUTS]:
        stem_words = baselines.content(stem)
        answer = _base(texts[hidden], hidden, statements, pool, "", seed, stem_words,
                       stem_words | baselines.content(text), longer)
        offered = _base(text, i, statements, pool, why, seed, stem_words, stem_words | answer_words, longer)
        forbidden = {k for j in range(n) if j not in unshown for k in text_keys(chain.steps[j].text)} | (stated - own(hidden, i))
        layouts.append(Layout(stem, answer, offered, forbidden))
    common = dict(discipline=chain.discipline, chain=chain.key, doc=chain.doc, variant=variant, split=split)
    keys = (sorted(s.key for s in statements), sorted({c.key for c in concepts}))
    rejected: list = []
    choices = ranked(candidates(layouts, max(2, cfg.options), seed, rejected), seed)
    if choices:
        return _Prepared(common, keys, choices, None)
    if rejected:  # sets were built, but the options alone told each one's answer: keep the closest
        told = Counter(t for c in rejected for t in tells(c))
        closest = min(rejected, key=lambda c: len(tells(c)))
        dropped = make(DroppedItem, **common, reason="options_tell",
                       detail=f"every symmetric set ({len(rejected)}) can be told from its options alone: "
                              + ", ".join(f"{_TELLS[t]} in {n}" for t, n in sorted(told.items())),
                       stem=closest.stem, options=order(closest.options, seed)[0])
        return _Prepared(common, keys, [], dropped)
    have = [op for op in ("adjacency", "inversion") if layouts[0].answer.edits[op]] + \
        (["truncation"] if len(layouts) > 1 else [])
    dropped = make(DroppedItem, **common, reason="no_symmetric_set",
                   detail=f"operators that apply: {', '.join(have) or 'none'}; a symmetric set of "
                          f"{cfg.options} options needs two edits that apply", stem=plain_stem, options=[])
    return _Prepared(common, keys, [], dropped)


def _variants(chain: Chain, cfg: BenchConfig) -> list[tuple[str, int]]:
    if len(chain.steps) < 2:
        return []
    out = [("conclusion", len(chain.steps) - 1)]
    if cfg.middle_items and len(chain.steps) >= 3:
        out.append(("middle", (len(chain.steps) - 1) // 2))
    return out


Unit = tuple[Chain, Sequence[Statement], Sequence[Concept], Sequence[Concept]]


def _sides(chains: Sequence[Chain], prepared: Sequence[_Prepared], cfg: BenchConfig, split: str) -> dict[str, str]:
    """chain key -> the split of its items: ``split`` when given; else, for a document whose chains
    fall into two groups or more with items (chains sharing no sentence,
    :func:`proda.bench.split.components`), the split :func:`proda.bench.split.sides` gives each group,
    and "" for a document of one such group (the stage places it with the discipline's others)."""
    side = {p.common["chain"]: split for p in prepared}
    if split:
        return side
    groups = [{c.key for c in g} for g in components(chains)]
    counts = [sum(1 for p in prepared if p.choices and p.common["chain"] in g) for g in groups]
    filled = [n for n, c in enumerate(counts) if c]
    if len(filled) >= 2:
        got = sides([counts[n] for n in filled], cfg.holdout, digest([c.key for c in chains]))
        side.update((key, s) for n, s in zip(filled, got) for key in groups[n])
    return side


def items_for_document(units: Sequence[Unit], cfg: BenchConfig, split: str = "dev") -> list:
    """The benchmark items of a document's chains — (chain, its statements, its concepts, the
    document's concepts) each — and a ``DroppedItem`` for each variant that could not be kept.

    ``split`` goes on every record (and seeds the balancing: the same document given a split, as
    :func:`items_for_chain` does, may get other option sets than in the stage). The bench stage
    builds with ``split=""``: see :func:`_sides`. The option sets are chosen together for the items
    that go to one split (:func:`proda.bench.options.balance`), so the option-only rules are at
    chance over each split's share of every document."""
    prepared = []
    stated = _stated([u[0] for u in units])
    units = sorted(units, key=lambda u: u[0].key)
    for chain, statements, concepts, neighbours in units:
        statements = sorted(statements, key=lambda s: s.key)
        concepts = sorted(concepts, key=lambda c: c.key)
        pool = Pool(concepts, neighbours)
        prepared += [_variant(chain, statements, concepts, pool, cfg, v, h, split, stated)
                     for v, h in _variants(chain, cfg)]
    side = _sides([u[0] for u in units], prepared, cfg, split)
    docs = sorted({u[0].doc for u in units})
    picked: dict[int, Choice | None] = {}
    for bucket in sorted(set(side.values())):
        mine = [n for n, p in enumerate(prepared) if p.choices and side[p.common["chain"]] == bucket]
        chosen = balance([prepared[n].choices for n in mine], digest(["bench", docs, bucket] if bucket else ["bench", docs]))
        picked.update(zip(mine, chosen))
    out = []
    for n, p in enumerate(prepared):
        common = {**p.common, "split": side[p.common["chain"]]}
        if p.dropped is not None:
            out.append(msgspec.structs.replace(p.dropped, split=common["split"]))
            continue
        choice = picked[n]
        if choice is None:
            closest = p.choices[0]
            out.append(make(DroppedItem, **common, reason="unbalanceable",
                            detail="every option set it has would take an option-only rule off chance over "
                                   "the items of its document and split (longest, shortest, most similar or "
                                   "the rising direction picks the answer too often or too seldom)",
                            stem=closest.stem, options=closest.options))
            continue
        out.append(make(Item, **common, statements=p.keys[0], concepts=p.keys[1], stem=choice.stem,
                        options=choice.options, answer=choice.answer))
    return out


def items_for_chain(chain: Chain, statements: Sequence[Statement], concepts: Sequence[Concept],
                    neighbours: Sequence[Concept], cfg: BenchConfig, split: str = "dev") -> list:
    """The benchmark items of one chain (``conclusion`` always, ``middle`` for chains of 3+ steps),
    and a ``DroppedItem`` for each variant that could not be kept: :func:`items_for_document` for a
    document of one chain."""
    return items_for_document([(chain, statements, concepts, neighbours)], cfg, split)
