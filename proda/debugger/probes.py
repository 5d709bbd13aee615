"""Probes: small multiple-choice questions about one L1/L2 node of a failed item, built from the
item's own nodes (never its stem or options); scored like items.

A probe only counts as evidence when it needs its question — the option-only checks items get:
:func:`blind_flags` rejects a probe whose answer is named in its stem or is the only option sharing
a content word with the stem (what a reader of the options and a glance at the stem could pick),
and ``run.py`` scores probes by what the stem adds (log-likelihood with the stem minus without it,
lm-eval's ``acc_mutual_info``), so an option the model prefers whatever it is asked decides nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from ..hashing import digest
from ..records import Chain, Concept, Item, Statement
from ..synth.orthogonality import ngrams, words
from ..text import relations as R
from .wording import asked_about, cleaned, involves, mentions, name_pattern, normalised, own_records, ranked, unique_texts


class Probe(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A multiple-choice question about one L1/L2 node of a failed item."""

    key: str
    node: str  # the L1 or L2 key it probes
    kind: str  # concept | statement
    stem: str
    options: list[str]
    answer: int
    concepts: list[str] = msgspec.field(default_factory=list)  # L1 keys it involves


# --- probes --------------------------------------------------------------------------------------


def _probe(node: str, kind: str, stem: str, answer: str, distractors: Iterable[str],
           concepts: list[str]) -> Probe | None:
    opts = unique_texts([answer, *distractors])[:4]
    if len(opts) < 2:
        return None
    opts.sort(key=lambda o: digest([node, kind, stem, o]))
    idx = opts.index(answer)
    return Probe(key=digest(["Probe", node, kind, stem, opts, idx]), node=node, kind=kind,
                 stem=stem, options=opts, answer=idx, concepts=concepts)


def _concept_probe(c: Concept, pool: list[Concept]) -> Probe | None:
    definition = cleaned(name_pattern(c).sub("___", c.definition))
    if len(words(definition)) < 3:
        return None
    rivals = [o for o in pool if o.key != c.key and normalised(o.name) != normalised(c.name)
              and not mentions(definition, o)]
    rivals.sort(key=lambda o: (o.category != c.category, digest([c.key, o.key])))
    return _probe(c.key, "concept", f"Which term is defined as: {definition}?", c.name,
                  [o.name for o in rivals], [c.key])


def _object_probe(s: Statement, own_s: list[Statement], own_c: list[Concept],
                  pool: list[Concept]) -> Probe | None:
    if asked_about(s.relation, s.subject) is None:
        return None
    true = {normalised(o.object) for o in own_s if normalised(o.subject) == normalised(s.subject)
            and o.relation == s.relation}
    wrong = [o.object for o in ranked(s.key, own_s) if normalised(o.object) not in true]
    obj = next((c for c in own_c if normalised(c.name) == normalised(s.object)), None)
    names = sorted(pool, key=lambda o: (obj is None or o.category != obj.category,
                                        digest([s.key, o.key])))
    wrong += [o.name for o in names if normalised(o.name) not in true]
    wrong = [w for w in wrong if normalised(w) != normalised(s.subject)]
    involved = [c.key for c in own_c if involves(s, c)]
    return _probe(s.key, "statement", asked_about(s.relation, s.subject), s.object, wrong,
                  involved)


def _relation_probe(s: Statement, own_c: list[Concept]) -> Probe | None:
    if s.relation not in R.CONTRAST:
        return None
    return _probe(s.key, "statement", f"{s.subject} ___ {s.object}: which relation holds?",
                  R.phrase(s.relation), R.CONTRAST[s.relation],
                  [c.key for c in own_c if involves(s, c)])


def probes_for_item(item: Item, chain: Chain, statements: list[Statement], concepts: list[Concept],
                    neighbours: list[Concept], *, ngram: int, limit: int = 10) -> list[Probe]:
    """Up to ``limit`` probes of the item's own L1 and L2 nodes, concepts and statements alternating.

    ``statements``/``concepts`` may be a superset: the item's own nodes are those it lists (else the
    chain's statements / everything given). ``neighbours`` supply concept distractors (same
    category first). A probe that shares an ``ngram``-word run (``synth.ngram``) with the item stem (or contains it) is dropped.
    """
    own_s = own_records([s for s in statements if s.chain == chain.key] or statements, item.statements)
    own_c = own_records(concepts, item.concepts)
    own_keys = {c.key for c in own_c}
    pool = own_c + [c for c in neighbours if c.key not in own_keys]
    cps = [p for c in own_c if (p := _concept_probe(c, pool))]
    sps = [p for s in own_s if (p := _object_probe(s, own_s, own_c, pool))]
    rps = [p for s in own_s if (p := _relation_probe(s, own_c))]
    ordered = [p for pair in zip(cps, sps) for p in pair]
    ordered += cps[len(sps):] + sps[len(cps):] + rps
    stem_grams, stem_norm = ngrams(item.stem, ngram), normalised(item.stem)
    out: list[Probe] = []
    for p in ordered:
        text = " ".join([p.stem, *p.options])
        if ngrams(text, ngram) & stem_grams or (stem_norm and stem_norm in normalised(text)):
            continue
        if p.key not in {q.key for q in out}:
            out.append(p)
    return out[:limit]




_STOP = frozenset("a an the of in on at to for with by from or and as is are was were be that which this "
                  "what which term defined relation holds does do how".split())


def blind_flags(p: Probe) -> list[str]:
    """Why ``p`` could be answered without knowing the node (empty: a valid probe)."""
    flags = []
    stem, answer = normalised(p.stem), normalised(p.options[p.answer])
    if answer and f" {answer} " in f" {stem} ":
        flags.append("answer named in the stem")
    content = set(words(p.stem)) - _STOP
    sharing = [i for i, o in enumerate(p.options) if content & (set(words(o)) - _STOP)]
    if sharing == [p.answer]:
        flags.append("answer is the only option sharing a word with the stem")
    return flags
