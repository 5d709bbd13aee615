"""Targeted patch samples for a diagnosed failure, in the open:mcq:tf mix, teaching what the failure
is about in new wording (proda/debugger/lessons.py): for a concept gap, the failed nodes'
definitions and relations and contrasts against the confused concept; for a reasoning deficit, how
the chain's relations compose; for an undetermined failure, the relations behind the answer. The
direction of a relation is taught whenever the model chose an inverted option.

No candidate may break the orthogonality rule (proda/synth/orthogonality.py: no 13-word run shared
with, and no whole 8+-word text of, any item of either split, on text reduced to letters); those that
do are dropped before they are chosen and counted per kind in ``dropped``.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..hashing import digest
from ..records import Chain, Concept, Diagnosis, Item, Sample, Statement, make
from ..synth.orthogonality import Rule, words
from ..synth.samples import Names
from . import lessons as L
from .diagnosis import LABELS
from .wording import involves, mentions, ranked

FORMATS = ("open", "mcq", "tf")


def mix_counts(n: int, mix: Sequence[int]) -> list[int]:
    """Split n by the ratio ``mix`` (largest remainder, ties to the earlier format): 20, 6:3:1 ->
    12/6/2; 7 -> 4/2/1."""
    if n < 0 or not mix or any(m < 0 for m in mix) or sum(mix) == 0:
        raise ValueError(f"bad sample mix {list(mix)} for n={n}")
    total = sum(mix)
    counts = [n * m // total for m in mix]
    order = sorted(range(len(mix)), key=lambda i: (-(n * mix[i] % total), i))
    for i in order[:n - sum(counts)]:
        counts[i] += 1
    return counts


def answer_step(item: Item, chain: Chain) -> int:
    """The chain step the item's answer states (the same text, else the best word overlap; the last
    step when nothing matches)."""
    answer = set(words(item.options[item.answer].text))
    best, score = len(chain.steps) - 1, 0.0
    for i, step in enumerate(chain.steps):
        w = set(words(step.text))
        s = len(answer & w) / max(len(answer | w), 1)
        if s > score:
            best, score = i, s
    return best


def _tiers(diag: Diagnosis, item: Item, chain: Chain, statements: list[Statement], concepts: list[Concept],
           confused: list[Concept], facts: L.Facts) -> list[list[L.Family]]:
    own = [s for s in statements if s.chain == chain.key] or list(statements)
    by_key = {c.key: c for c in [*concepts, *confused]}
    targets = [by_key[k] for k in diag.nodes if k in by_key]
    node_stmts = [s for s in own if s.key in diag.nodes]
    step = answer_step(item, chain)
    behind = [s for s in own if step in s.steps] or own[-1:]
    answer_text = item.options[item.answer].text
    in_answer = [c for c in concepts if mentions(answer_text, c)]
    ys = [c for c in confused if c.key not in {t.key for t in targets}]
    others = [c.name for c in ranked(diag.key, concepts) if c.key not in {t.key for t in [*targets, *ys]}]
    chosen = next((o for o in item.options if o.text == diag.confused_with), None)
    operator = chosen.operator if chosen else ""

    def rel(ss):
        return [f for i, s in enumerate(ss) for f in L.relation_lessons(facts, s, others, i)]

    def define(cs):
        return [f for i, c in enumerate(cs) for f in
                L.definition_lessons(facts, c, [s for s in own if involves(s, c)], others, i)]

    def contrast(cs):
        return [f for i, c in enumerate(cs) for y in ys for f in
                L.contrast_lessons(facts, c, y, [s for s in own if involves(s, c)], i)]

    ordered = sorted(own, key=lambda s: (min(s.steps, default=0), s.key))
    compose = L.composition_lessons(facts, ordered, others)
    everything = rel(own) + define([c for c in concepts if c.key in set(item.concepts)]) + compose
    swapped = [c for c in in_answer if chosen is None or not mentions(chosen.text, c)] or in_answer
    if diag.label == "concept_gap":
        first = contrast(targets or swapped) + define(targets) + rel(node_stmts or behind)
    elif diag.label == "reasoning_deficit":
        first = compose + rel(behind)
    else:
        first = rel(behind) + contrast(swapped) + define(in_answer)
    if operator == "inversion":
        first = rel(behind) + first  # the direction / sign of the links behind the answer
    elif operator == "truncation":
        first = compose + first  # where the chain goes after the step offered as its end
    return [first, everything]


def patch_samples(diag: Diagnosis, item: Item, chain: Chain, statements: list[Statement],
                  concepts: list[Concept], confused: list[Concept], n: int = 20,
                  mix: Sequence[int] = (6, 3, 1), patch_name: str = "", *, ngram: int = 13,
                  rule: Rule | None = None, dropped: dict[str, int] | None = None,
                  lessons: str = "contrast", paraphrases: int = 0) -> list[Sample]:
    """Up to n patch samples for one diagnosis, ``mix`` open:mcq:tf (see :func:`mix_counts`).

    ``statements`` are the chain's statements, ``concepts`` the item's concepts and its neighbours
    (a superset is fine), ``confused`` the concepts the model mixed up (:func:`confused_concepts`).
    Candidates are taken round-robin over lesson families (the failure's own first, then the rest
    of the item's knowledge as a fallback). ``rule`` is the orthogonality rule over every item of
    both splits (default: this item alone); candidates breaking it are skipped and counted in
    ``dropped`` by kind. ``lessons = "positive"`` keeps only candidates that state nothing false
    (no refuted claim, wrong option or confused concept in the text); ``paraphrases`` adds each
    relation in that many other wordings (``relations.PARAPHRASES``). Where the nodes cannot support
    n distinct samples, fewer are returned (never padding). Each sample lists the statements and
    concepts it teaches.
    """
    if diag.label not in LABELS:
        raise ValueError(f"unknown diagnosis label {diag.label!r}")
    if not patch_name:
        raise ValueError("patch_name is required (the patch file name)")
    counts = mix_counts(n, mix)
    names = Names([*concepts, *confused], max(2, ngram - 3))
    facts = L.Facts(names, chain.process, paraphrases)
    tiers = _tiers(diag, item, chain, statements, concepts, confused, facts)
    if lessons == "positive":
        tiers = [[[c for c in fam if not c.negative] for fam in tier] for tier in tiers]
    elif lessons != "contrast":
        raise ValueError(f"unknown lessons {lessons!r}: contrast or positive")
    rule = rule or Rule([item], ngram)
    pool = list({(c.format, c.prompt, c.response): c for t in tiers for fam in t for c in fam}.values())
    found = rule.find([(c.prompt, c.response) for c in pool])
    bad = {(pool[i].format, pool[i].prompt, pool[i].response) for i in found}
    if dropped is not None:
        for f in found.values():
            dropped[f.kind] = dropped.get(f.kind, 0) + 1
    seen: set[str] = set()
    out: list[Sample] = []
    for fmt, count in zip(FORMATS, counts):
        for cand in _pick(tiers, fmt, count, diag.key, seen, bad):
            out.append(make(Sample, discipline=item.discipline, format=cand.format, prompt=cand.prompt,
                            response=cand.response, statements=sorted(cand.statements),
                            concepts=sorted(cand.concepts), origin="patch", source=patch_name))
    return out


def _pick(tiers: list[list[L.Family]], fmt: str, count: int, seed: str, seen: set[str],
          bad: set[tuple[str, str, str]]) -> list[L.Cand]:
    """Round-robin over the families of each tier (each family rotated by the seed)."""
    out: list[L.Cand] = []
    for t, families in enumerate(tiers):
        queues = []
        for f, fam in enumerate(families):
            q = [c for c in fam if c.format == fmt and (c.format, c.prompt, c.response) not in bad]
            if q:
                r = int(digest([seed, t, f])[:8], 16) % len(q)
                queues.append(q[r:] + q[:r])
        while len(out) < count and any(queues):
            for q in queues:
                while q and len(out) < count:
                    c = q.pop(0)
                    if c.prompt in seen:
                        continue
                    seen.add(c.prompt)
                    out.append(c)
                    break
    return out
