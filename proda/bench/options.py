"""Symmetric option sets: the answer is one corner of a factorial design, not the source of the rest.

A *factor* is one of the three operators. ``adjacency`` and ``inversion`` are one-span edits of a
sentence (:mod:`proda.bench.edits`); ``truncation`` replaces the answer by another step of the same
chain that the stem does not show (a true, fluent sentence, but not the one asked for). With two
factors the options are the four corners of a square — for example the answer, its concept swapped,
its relation inverted, and both — so every option differs from two others by one edit and from the
third by two: no option is the centre the others were made from, whichever corner is true. With
truncation as a factor, the other factor is applied to the truncation step as well (the answer, the
answer edited, another step, that step edited). Every option records the operators that produced it
("adjacency+inversion"; "" for the answer) and why it is wrong.

A different number of options takes a bigger or smaller cube: its corners are chosen by a hash of the
item, the answer among them, so the answer's place in the set is exchangeable with the others'.

Among the candidate sets an item allows (which concept, which neighbour, which relation, which
step), those on which the negation and stem-overlap rules could tell options apart are not kept,
nor those whose options differ in how many distinct words they have (:func:`even`);
the rest are ranked by how little the other rules can decide (:func:`ranked`, blind to the answer),
and :func:`balance` picks one per item over the items a document gives one split so that each rule picks the answer as
often as a guess would — adversarial filtering towards chance, neither more (the rule would read the
answer off the options) nor less (never-the-longest is a tell too).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import NamedTuple

from ..hashing import digest
from ..records import Option
from . import baselines
from .edits import Edit, apply, norm, overlap
from .split import sentence_key

OPERATORS = ("adjacency", "inversion", "truncation")
_PER_FACTOR = 5  # alternatives tried per edit
_MAX_CANDIDATES = 32
_BALANCE_CHOICES = 12  # best-ranked candidates of an item that balancing may choose among
_BALANCED = ("most_similar", "longest", "shortest", "affirmative")  # the rules that can decide (the others must tie)
_SLACK = 0.5  # hits a rule may stay off chance over a document's split when no choice can help (see feasible)


class Base(NamedTuple):
    """A sentence a corner starts from: the answer, or (truncation) another hidden step."""

    text: str
    edits: dict[str, list[Edit]]  # operator -> its edits of this sentence, best first
    reason: str  # why this sentence itself is wrong ("" for the answer)
    clean: frozenset[Edit] = frozenset()  # edits that swap words one for one and keep the stem overlap


def _label(factors: Sequence[str], corner: frozenset[int]) -> str:
    """The operators that made a corner (its factor slots), each named once, in paper order."""
    used = {factors[i] for i in corner}
    return "+".join(op for op in OPERATORS if op in used)


def _pick_corners(factors: Sequence[str], wanted: int, seed: str) -> list[frozenset[int]]:
    """The answer's corner (no factor) and ``wanted - 1`` others of the cube over the factor slots,
    chosen by hash when the cube has more corners than options."""
    slots = range(len(factors))
    others = [frozenset(c) for r in range(1, len(factors) + 1) for c in itertools.combinations(slots, r)]
    others.sort(key=lambda c: digest([seed, "corner", sorted(c)]))
    return [frozenset()] + others[:wanted - 1]


def _varied(edits: Sequence[Edit], limit: int | None, clean: frozenset[Edit] = frozenset()) -> list[Edit]:
    """Per thing edited (a concept, a relation word), the first ``limit`` edits (best first), taking
    the best that keeps the length, the best two that lengthen and the best two that shorten before
    any others: choice enough to balance a set. Clean edits only, where a thing has any. Each thing
    is chosen for on its own, so that a second thing to edit (a factor used twice) is among them."""
    if limit is None:
        return list(edits)
    things: dict[str, list[Edit]] = {}
    for e in edits:
        things.setdefault(e.change[0], []).append(e)
    picked = []
    for found in things.values():
        found = [e for e in found if e in clean] or found
        ways: dict[int, list[Edit]] = {}
        for e in found:
            change = len(e.text) - (e.end - e.start)
            ways.setdefault((change > 0) - (change < 0), []).append(e)
        picked += (ways.get(0, [])[:1] + ways.get(1, [])[:2] + ways.get(-1, [])[:2])[:limit]
    return sorted(picked, key=edits.index)


class Layout(NamedTuple):
    """One way to ask: the stem, the answer, and the step offered as truncation (hidden from the stem)."""

    stem: str
    answer: Base
    truncation: Base | None
    forbidden: set[str]  # normalised sentences no option may be: those the stem shows, and the document's others


class Candidate(NamedTuple):
    stem: str
    options: list[Option]  # the answer first


def _sets(layout: Layout, factors: Sequence[str], wanted: int, seed: str) -> list[Candidate]:
    """The option sets of one layout and one choice of factor slots ("adjacency" twice: two
    different concepts swapped, alone and together)."""
    corners = _pick_corners(factors, wanted, digest([seed, list(factors)]))
    slots = [i for i, f in enumerate(factors) if f != "truncation"]
    truncation = next((i for i, f in enumerate(factors) if f == "truncation"), None)

    def combos(base: Base, limit: int | None = _PER_FACTOR) -> list[tuple[Edit, ...]]:
        choices = [_varied(base.edits.get(factors[i], []), limit, base.clean) for i in slots]
        out = []
        for c in itertools.product(*choices):
            if any(overlap(a, b) for a, b in itertools.combinations(c, 2)):
                continue
            # one slot per thing changed: two slots of one operator edit different things, in order
            if any(factors[slots[i]] == factors[slots[j]] and (c[i].start >= c[j].start or c[i].change[0] == c[j].change[0]
                                                                or c[i].change[1] == c[j].change[1])
                   for i, j in itertools.combinations(range(len(c)), 2)):
                continue
            out.append(c)
        return out

    answer, step = layout.answer, layout.truncation
    out = []
    for answer_edits in combos(answer):
        if step is None:
            step_choices: list[tuple[Edit, ...]] = [()]
        else:
            # the same change on both sentences where the step allows it (X -> Y in the answer and in
            # the step): the two pairs then differ in the same words
            wanted_change = [e.change for e in answer_edits]
            same = [c for c in combos(step, None) if [e.change for e in c] == wanted_change]
            step_choices = same[:1] or combos(step)
        for step_edits in step_choices:
            options = []
            for corner in corners:
                moved = truncation is not None and truncation in corner
                base, chosen = (step, step_edits) if moved else (answer, answer_edits)
                applied = [e for i, e in zip(slots, chosen) if i in corner]
                reasons = ([base.reason] if moved else []) + [e.reason for e in applied]
                options.append(Option(text=apply(base.text, applied), operator=_label(factors, corner),
                                      reason="; and it ".join(reasons)))
            if valid(options, layout.forbidden):
                out.append(Candidate(layout.stem, options))
    return out


def _slot_sets(layout: Layout, wanted: int) -> list[Candidate]:
    """Sets of ``wanted`` fillers of one concept slot: the answer names X, each distractor puts a
    different neighbour of X's category in X's place, so every option differs from every other by
    one edit of the same kind and none is the centre. Only clean swaps (see :class:`Base`) qualify.
    The fillers are a window of the length order around X: one set for each number of fillers
    longer than X that the neighbours allow (:func:`balance` then picks among them)."""
    by_slot: dict[tuple[int, str], list[Edit]] = {}
    for e in layout.answer.edits.get("adjacency", []):
        if e in layout.answer.clean:
            by_slot.setdefault((e.start, e.change[0]), []).append(e)
    out = []
    for slot, edits in sorted(by_slot.items()):
        size = lambda e: len(e.text) - (e.end - e.start)  # noqa: E731
        longer = sorted((e for e in edits if size(e) > 0), key=lambda e: (size(e), e.text))
        shorter = sorted((e for e in edits if size(e) < 0), key=lambda e: (-size(e), e.text))
        same = sorted((e for e in edits if size(e) == 0), key=lambda e: e.text)
        for above in range(wanted):
            up, down = longer[:above], shorter[:wanted - 1 - above]
            fill = same[:wanted - 1 - len(up) - len(down)]  # as long as X: a tie, either side
            chosen = up + down + fill
            if len(chosen) < wanted - 1 or (len(up) < above and not fill) or (len(down) < wanted - 1 - above and not fill):
                continue
            options = [Option(text=layout.answer.text, operator="", reason="")]
            options += [Option(text=apply(layout.answer.text, [e]), operator="adjacency", reason=e.reason)
                        for e in chosen]
            if valid(options, layout.forbidden):
                out.append(Candidate(layout.stem, options))
    return out


def candidates(layouts: Sequence[Layout], wanted: int, seed: str, rejected: list | None = None) -> list[Candidate]:
    """Every option set the layouts allow: ``m`` factor slots with ``2**m >= wanted`` — adjacency and
    inversion, each possibly twice (two different concepts or relations), and truncation exactly
    when the layout hides a step to offer — each edit tried in its ``_PER_FACTOR`` best forms; only
    sets without :func:`tells` (those with go to ``rejected``, when given)."""
    m = max(1, (wanted - 1).bit_length())
    out: list[Candidate] = []
    for layout in layouts:
        edits = [op for op in ("adjacency", "inversion") if layout.answer.edits.get(op)]
        if layout.truncation is None:
            choices = list(itertools.combinations_with_replacement(edits, m))
        else:
            choices = [c + ("truncation",) for c in itertools.combinations_with_replacement(edits, m - 1)]
        for factors in choices:
            out.extend(_sets(layout, factors, wanted, seed))
        if layout.truncation is None:
            out.extend(_slot_sets(layout, wanted))
    out = list({(c.stem, tuple(o.text for o in c.options)): c for c in out}.values())
    out.sort(key=lambda c: digest([seed, c.stem, [o.text for o in c.options]]))
    told = [bool(tells(c)) for c in out]
    if rejected is not None:
        rejected.extend(c for c, t in zip(out, told) if t)
    return [c for c, t in zip(out, told) if not t][:_MAX_CANDIDATES]


def text_keys(text: str) -> set[str]:
    """A sentence's comparison keys: as options are compared (:func:`proda.bench.edits.norm`) and
    as the splits are (:func:`proda.bench.split.sentence_key`, letters and digits only)."""
    return {k for k in (norm(text), sentence_key(text)) if k}


def valid(options: Sequence[Option], forbidden: set[str]) -> bool:
    """Distinct options, none of them a forbidden sentence (one the stem shows, or another the
    document states) under either comparison key."""
    found = [norm(o.text) for o in options]
    return len(set(found)) == len(found) and all(k for k in found) and \
        not any(text_keys(o.text) & forbidden for o in options)


def order(options: Sequence[Option], seed: str) -> tuple[list[Option], int]:
    """Options in a hash order of their texts, and where the answer ended up."""
    ordered = sorted(options, key=lambda o: digest([seed, o.text]))
    return ordered, next(i for i, o in enumerate(ordered) if o.operator == "")


# Rules whose pick must be a tie of every option: the edits never touch negation, and an edit that
# swaps a word of the stem for one the stem lacks would point at (or away from) the answer.
MUST_TIE = ("no_negation", "stem_overlap")


def decided(candidate: Candidate) -> list[str]:
    """The rules of ``MUST_TIE`` that can tell this set's options apart (whichever they would pick)."""
    texts = [o.text for o in candidate.options]
    picks = baselines.picks(candidate.stem, texts)
    return [name for name in MUST_TIE if len(picks[name]) < len(texts)]


def tells(candidate: Candidate) -> list[str]:
    """What tells this set's answer from its options alone, so that it is not kept: the ``MUST_TIE``
    rules that can tell the options apart, and ``word_counts`` when the options are not :func:`even`."""
    return decided(candidate) + ([] if even(candidate.options) else ["word_counts"])


def spread(stem: str, texts: Sequence[str]) -> float:
    """How decidedly the rule baselines pick among the options, whatever the answer: 0 when every
    rule ties all options, more the fewer options each rule's pick holds."""
    k = len(texts)
    return sum(1 - len(p) / k for p in baselines.picks(stem, texts).values())


class Choice(NamedTuple):
    stem: str
    options: list[Option]
    answer: int
    spread: float


def types(text: str) -> tuple[int, int]:
    """How many distinct words and distinct content words a sentence has."""
    return len(set(baselines.words(text))), len(baselines.content(text))


def even(options: Sequence[Option]) -> bool:
    """Whether every option has as many distinct words, and distinct content words, as the sentence
    it was edited from (the answer; for a truncation corner, the other step). An edit that swaps one
    word for two ("buffer" -> "salt solution"), a function word for a content word ("more" ->
    "less"), or leaves the word it replaces elsewhere in the sentence ("rock families ... the rock
    cycle") mostly adds a word type to the edited options and never to the answer, so in an uneven
    set the answer tends to be the option of fewest types — the one the others were made from — and
    a classifier on option features reads it off their overlaps (on the example and OpenStax items of
    bench v5: the answer's least overlap with another option and its share of stem words, t = 2 to
    4). Only even sets are kept."""
    bases: dict[bool, set[tuple[int, int]]] = {}
    for o in options:
        bases.setdefault("truncation" in o.operator, set()).add(types(o.text))
    return all(len(counts) == 1 for counts in bases.values())


def ranked(sets: Sequence[Candidate], seed: str, keep: int = _BALANCE_CHOICES) -> list[Choice]:
    """The ``keep`` candidates on which the rule baselines can decide least (:func:`spread`), best
    first, each in its option order. The ranking does not look at which option is the answer."""
    scored = sorted(((round(spread(c.stem, [o.text for o in c.options]), 9),
                      digest([seed, c.stem, [o.text for o in c.options]]), c) for c in sets), key=lambda x: x[:2])
    out = []
    for value, _, c in scored[:keep]:
        ordered, answer = order(c.options, seed)
        out.append(Choice(c.stem, ordered, answer, value))
    return out


def _credits(items: Sequence[Sequence[Choice]]) -> list[list[dict[str, float]]]:
    """Each rule's credit on each choice of each item."""
    return [[baselines.credits(c.stem, [o.text for o in c.options], c.answer) for c in choices] for choices in items]


def feasible(items: Sequence[Sequence[Choice]], slack: float | None = None,
             credits: Sequence[Sequence[dict[str, float]]] | None = None) -> list[bool]:
    """Which items to keep so that each rule of ``_BALANCED`` *can* pick the answer as often as
    chance over the kept items: an item's choices give each rule a least and a most credit, and when
    the items' least credits sum above what chance gives them (or their most credits below it) by
    more than the rule's slack, no choice of sets can bring the rule back, so the item furthest off
    (whose every set that rule answers, or never answers) is dropped, and so on until every rule can
    reach chance. Adversarial filtering of what :func:`balance` cannot fix by choosing.

    The slack (``_SLACK`` hits, or ``slack``) is what a document's share of a split may keep off
    chance. For rules without a direction of their own (length, similarity) such remainders fall
    either way and cancel over documents; the direction rule's do not (textbooks state rises more
    than falls), so it keeps a small surplus over chance — 2 to 3 points on the example and OpenStax.
    Allowing it none above chance removed 9% (OpenStax) to 16% (example) of the items and left it
    1 to 3 points *below* chance, with the other rules no nearer: not kept."""
    slack = _SLACK if slack is None else slack
    credits = _credits(items) if credits is None else credits
    ranges = []
    for choices, credit in zip(items, credits):
        width = len(choices[0].options)
        assert all(len(c.options) == width for c in choices), "an item's option sets differ in size"
        ranges.append({n: (min(c[n] for c in credit), max(c[n] for c in credit)) for n in _BALANCED})
    keep = [True] * len(items)
    while True:
        alive = [i for i in range(len(items)) if keep[i]]
        if not alive:
            return keep
        chance = {i: 1 / len(items[i][0].options) for i in alive}
        worst = None
        for n in _BALANCED:
            low = round(sum(ranges[i][n][0] - chance[i] for i in alive), 9)
            high = round(sum(ranges[i][n][1] - chance[i] for i in alive), 9)
            if low > slack:
                off = max(alive, key=lambda i: (ranges[i][n][0] - chance[i], -i))
                gap = low
            elif high < -slack:
                off = max(alive, key=lambda i: (chance[i] - ranges[i][n][1], -i))
                gap = -high
            else:
                continue
            if worst is None or gap > worst[0]:
                worst = (gap, off)
        if worst is None:
            return keep
        keep[worst[1]] = False


def balance(items: Sequence[Sequence[Choice]], seed: str) -> list[Choice | None]:
    """One choice per item (each list best first), or None for an item dropped: :func:`feasible`
    drops what no choice can bring to chance, :func:`_balance` chooses for the rest."""
    credits = _credits(items)
    keep = feasible(items, credits=credits)
    picked = iter(_balance([c for c, k in zip(items, keep) if k], [c for c, k in zip(credits, keep) if k], seed))
    return [next(picked) if k else None for k in keep]


def _balance(items: Sequence[Sequence[Choice]], credits: Sequence[Sequence[dict[str, float]]],
             seed: str) -> list[Choice]:
    """One choice per item such that, over these items (those a document gives one split), the rule
    baselines that can decide pick the answer as often as chance would — not more (they would read
    the answer off the options) and not less (never-the-longest is a tell too).

    Items are taken in order, as in systematic sampling: a rule's target count of hits after ``t``
    items is ``floor(u + expected_t)``, with ``u`` drawn in [0, 1) per rule from ``seed`` — so the
    count is right in expectation for any number of items — and each item gets the choice that keeps
    the rules' hits nearest their targets (ties: the better-ranked choice). Then single items'
    choices are changed while that brings the totals nearer their final targets. Balancing the
    items of a document and split at once keeps each split at chance with far less scatter than
    independent choices would."""
    import math

    start = {n: int(digest([seed, "balance", n])[:8], 16) / 16**8 for n in _BALANCED}
    hits = {n: 0.0 for n in _BALANCED}
    expected = 0.0
    picked = []
    for choices, credit in zip(items, credits):
        expected += 1 / len(choices[0].options)
        target = {n: math.floor(start[n] + expected) for n in _BALANCED}
        best = min(range(len(choices)), key=lambda r: (
            round(sum((hits[n] + credit[r][n] - target[n]) ** 2 for n in _BALANCED), 9), choices[r].spread, r))
        for n in _BALANCED:
            hits[n] += credit[best][n]
        picked.append(best)
    # then, what a split sees: the totals. Change single items' choices while that brings the rules'
    # totals nearer their final targets (the running targets above can leave a last item stranded)
    target = {n: math.floor(start[n] + expected) for n in _BALANCED}

    def cost(h: dict) -> float:
        return round(sum((h[n] - target[n]) ** 2 for n in _BALANCED), 9)

    for _ in range(3):
        moved = False
        for i, credit in enumerate(credits):
            now = cost(hits)
            for r in range(len(credit)):
                trial = {n: hits[n] - credit[picked[i]][n] + credit[r][n] for n in _BALANCED}
                if cost(trial) < now:
                    hits, now, picked[i], moved = trial, cost(trial), r, True
        if not moved:
            break
    return [choices[r] for choices, r in zip(items, picked)]
