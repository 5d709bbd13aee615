"""Debugger: diagnose benchmark failures and turn them into targeted patch samples (pure logic).

Input -> output: a failed ``dev`` item, its L3 chain, L2 statements and L1 concepts
  1. ``probes_for_item``  -> a few concept probes built from the item's own L1/L2 nodes (never its
     stem or options); the engine scores them like items: context ``prompting.item_context(stem)``,
     continuations ``prompting.option_continuation(option)``;
  2. ``diagnose``         -> a Diagnosis: any failed probe = ``concept_gap`` (nodes = the failed probes'
     nodes and the concepts they involve), all passed = ``reasoning_deficit`` (nodes = the chain's
     statements);
  3. ``patch_samples``    -> n Samples in the open:mcq:tf mix: contrastive samples against the confused
     concept / inverted relation / truncated chain (concept gap), or step-by-step scaffolds of the
     chain in new wordings (reasoning deficit);
  4. ``replay_samples``   -> a deterministic replay subset of the original samples;
  5. ``error_rates``      -> failures per tested item, per discipline (error-proportional budgets).

Orthogonality: samples never share an n-gram (default 13 words) with the item's stem or answer, a
chain step, a precondition, or the steps as a benchmark stem would juxtapose them. Texts are quoted
through :func:`_safe`, which cuts anything of n words or more into numbered parts of at most n-1
words, and every candidate is checked before it is kept. Everything is deterministic: choices are
seeded from record keys, never from a global RNG. No I/O here (patch files: ``proda.patches``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

import msgspec

from . import prompting
from .hashing import digest
from .records import Chain, Concept, Diagnosis, Item, Sample, Statement, make

FORMATS = ("open", "mcq", "tf")
LABELS = ("concept_gap", "reasoning_deficit")

PHRASE = {
    "causes": "causes", "is_a": "is a type of", "part_of": "is part of", "requires": "requires",
    "increases": "increases", "decreases": "decreases", "defined_as": "is defined as",
    "enables": "enables", "prevents": "prevents", "precedes": "precedes", "produces": "produces",
    "consists_of": "consists of", "related_to": "is related to",
}
QUESTION = {
    "causes": "What does {} cause?", "is_a": "What is {} a type of?", "part_of": "What is {} part of?",
    "requires": "What does {} require?", "increases": "What does {} increase?",
    "decreases": "What does {} decrease?", "enables": "What does {} enable?",
    "prevents": "What does {} prevent?", "precedes": "What does {} come before?",
    "produces": "What does {} produce?", "consists_of": "What does {} consist of?",
}  # defined_as / related_to make ambiguous object questions: no object probe for them
CONTRAST = {  # wrong relation phrases offered against the true one in a relation probe
    "increases": ["decreases", "has no effect on"], "decreases": ["increases", "has no effect on"],
    "causes": ["prevents", "is unrelated to"], "prevents": ["causes", "is unrelated to"],
    "enables": ["prevents", "is unrelated to"], "precedes": ["follows", "is unrelated to"],
    "produces": ["consumes", "is unrelated to"], "requires": ["is independent of", "prevents"],
}
_ANTONYM = {"increases": "decreases", "decreases": "increases", "enables": "prevents",
            "prevents": "enables"}
_SWAP = {"causes", "precedes", "requires", "produces", "part_of", "consists_of", "is_a"}


class Probe(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A multiple-choice question about one L1/L2 node of a failed item."""

    key: str
    node: str  # the L1 or L2 key it probes
    kind: str  # concept | statement
    stem: str
    options: list[str]
    answer: int
    concepts: list[str] = msgspec.field(default_factory=list)  # L1 keys it involves


# --- text helpers ------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_CLAUSE = re.compile(
    r"(?<=[,;:])\s+|\s+(?=(?:and|but|which|because|so|while|whereas|thereby|therefore|thus|then"
    r"|until|when|where|leading|resulting|causing|producing)\b)", re.IGNORECASE)


def words(text: str) -> list[str]:
    """Lower-cased word tokens (the unit of the orthogonality n-grams)."""
    return _WORD.findall(text.lower())


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    w = words(text)
    return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}


def _clean(text: str) -> str:
    return " ".join(text.split()).rstrip(" .;:,")


def _lc(text: str) -> str:
    """Lower-case a leading capitalised word so a sentence can be embedded ("Water" -> "water";
    acronyms such as "DNA" and a leading "(1) " part number are kept)."""
    m = re.match(r"(\(\d+\) )?[A-Z][a-z]*\b", text)
    if not m:
        return text
    i = len(m.group(1) or "")
    return text[:i] + text[i].lower() + text[i + 1:]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sent(text: str) -> str:
    text = _cap(_clean(text))
    return text if not text or text.endswith(("?", "!")) else text + "."


def _norm(text: str) -> str:
    return " ".join(words(text))


def _hard_split(piece: str, limit: int) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    for tok in piece.split():
        if cur and len(words(" ".join([*cur, tok]))) > limit:
            out.append(" ".join(cur))
            cur = []
        cur.append(tok)
    return out + ([" ".join(cur)] if cur else [])


def _safe(text: str, n: int) -> str:
    """Quote ``text`` without ever reproducing n consecutive words of it.

    Short texts pass unchanged. Longer ones are cut at clause boundaries (and, failing that, by
    words) into parts of at most n-1 words, rendered "(1) ... (2) ...": the inserted numbers break
    every n-gram that would span two parts, while each part still carries the fact verbatim.
    """
    text = _clean(text)
    limit = n - 1
    if len(words(text)) <= limit:
        return text
    segs: list[str] = []
    cur = ""
    for piece in _CLAUSE.split(text):
        for part in _hard_split(piece, limit):
            joined = f"{cur} {part}" if cur else part
            if len(words(joined)) <= limit:
                cur = joined
            else:
                if cur:
                    segs.append(cur)
                cur = part
    if cur:
        segs.append(cur)
    return " ".join(f"({i}) {_clean(s)}" for i, s in enumerate(segs, 1))


def _names(c: Concept) -> list[str]:
    return sorted({c.name, *c.aliases} - {""}, key=len, reverse=True)


def _name_re(c: Concept) -> re.Pattern[str]:
    alts = "|".join(re.escape(x) for x in _names(c)) or r"(?!x)x"
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)


def mentions(text: str, c: Concept) -> bool:
    """Whether ``text`` names the concept (its name or an alias, as whole words)."""
    return bool(_name_re(c).search(text))


def _unique(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in texts:
        k = _norm(t)
        if k and k not in seen:
            seen.add(k)
            out.append(t)
    return out


def _ranked(seed: str, records: Iterable, key=lambda r: r.key) -> list:
    return sorted(records, key=lambda r: digest([seed, key(r)]))


def _own(records: Sequence, keys: Sequence[str]) -> list:
    by_key = {r.key: r for r in records}
    return [by_key[k] for k in dict.fromkeys(keys) if k in by_key] or list(records)


def _involves(s: Statement, c: Concept) -> bool:
    names = {_norm(x) for x in _names(c)}
    return s.key in c.statements or _norm(s.subject) in names or _norm(s.object) in names


# --- probes --------------------------------------------------------------------------------------


def _probe(node: str, kind: str, stem: str, answer: str, distractors: Iterable[str],
           concepts: list[str]) -> Probe | None:
    opts = _unique([answer, *distractors])[:4]
    if len(opts) < 2:
        return None
    opts.sort(key=lambda o: digest([node, kind, stem, o]))
    idx = opts.index(answer)
    return Probe(key=digest(["Probe", node, kind, stem, opts, idx]), node=node, kind=kind,
                 stem=stem, options=opts, answer=idx, concepts=concepts)


def _concept_probe(c: Concept, pool: list[Concept]) -> Probe | None:
    definition = _clean(_name_re(c).sub("___", c.definition))
    if len(words(definition)) < 3:
        return None
    rivals = [o for o in pool if o.key != c.key and _norm(o.name) != _norm(c.name)
              and not mentions(definition, o)]
    rivals.sort(key=lambda o: (o.category != c.category, digest([c.key, o.key])))
    return _probe(c.key, "concept", f"Which term is defined as: {definition}?", c.name,
                  [o.name for o in rivals], [c.key])


def _object_probe(s: Statement, own_s: list[Statement], own_c: list[Concept],
                  pool: list[Concept]) -> Probe | None:
    if s.relation not in QUESTION:
        return None
    true = {_norm(o.object) for o in own_s if _norm(o.subject) == _norm(s.subject)
            and o.relation == s.relation}
    wrong = [o.object for o in _ranked(s.key, own_s) if _norm(o.object) not in true]
    obj = next((c for c in own_c if _norm(c.name) == _norm(s.object)), None)
    names = sorted(pool, key=lambda o: (obj is None or o.category != obj.category,
                                        digest([s.key, o.key])))
    wrong += [o.name for o in names if _norm(o.name) not in true]
    wrong = [w for w in wrong if _norm(w) != _norm(s.subject)]
    involved = [c.key for c in own_c if _involves(s, c)]
    return _probe(s.key, "statement", QUESTION[s.relation].format(s.subject), s.object, wrong,
                  involved)


def _relation_probe(s: Statement, own_c: list[Concept]) -> Probe | None:
    if s.relation not in CONTRAST:
        return None
    return _probe(s.key, "statement", f"{s.subject} ___ {s.object}: which relation holds?",
                  PHRASE[s.relation], CONTRAST[s.relation],
                  [c.key for c in own_c if _involves(s, c)])


def probes_for_item(item: Item, chain: Chain, statements: list[Statement], concepts: list[Concept],
                    neighbours: list[Concept], limit: int = 6) -> list[Probe]:
    """Up to ``limit`` probes of the item's own L1 and L2 nodes, concepts and statements alternating.

    ``statements``/``concepts`` may be a superset: the item's own nodes are those it lists (else the
    chain's statements / everything given). ``neighbours`` supply concept distractors (same
    category first). A probe that shares a 13-gram with the item stem (or contains it) is dropped.
    """
    own_s = _own([s for s in statements if s.chain == chain.key] or statements, item.statements)
    own_c = _own(concepts, item.concepts)
    own_keys = {c.key for c in own_c}
    pool = own_c + [c for c in neighbours if c.key not in own_keys]
    cps = [p for c in own_c if (p := _concept_probe(c, pool))]
    sps = [p for s in own_s if (p := _object_probe(s, own_s, own_c, pool))]
    rps = [p for s in own_s if (p := _relation_probe(s, own_c))]
    ordered = [p for pair in zip(cps, sps) for p in pair]
    ordered += cps[len(sps):] + sps[len(cps):] + rps
    stem_grams, stem_norm = ngrams(item.stem, 13), _norm(item.stem)
    out: list[Probe] = []
    for p in ordered:
        text = " ".join([p.stem, *p.options])
        if ngrams(text, 13) & stem_grams or (stem_norm and stem_norm in _norm(text)):
            continue
        if p.key not in {q.key for q in out}:
            out.append(p)
    return out[:limit]


# --- diagnosis -----------------------------------------------------------------------------------


def diagnose(item: Item, chosen: int, checkpoint: str, probes: list[Probe],
             probe_correct: list[bool]) -> Diagnosis:
    """Label a failure: a failed probe is a concept gap, else the model failed to compose the chain.

    Reasoning-deficit nodes are ``item.statements`` (the statements of the item's chain).
    """
    if len(probes) != len(probe_correct):
        raise ValueError(f"{len(probes)} probes but {len(probe_correct)} probe results")
    if not 0 <= chosen < len(item.options):
        raise ValueError(f"chosen option {chosen} out of range for {len(item.options)} options")
    if chosen == item.answer:
        raise ValueError("the item was answered correctly: nothing to diagnose")
    failed = [p for p, ok in zip(probes, probe_correct) if not ok]
    if failed:
        label = "concept_gap"
        nodes = list(dict.fromkeys(k for p in failed for k in [p.node, *p.concepts]))
    else:
        label, nodes = "reasoning_deficit", list(dict.fromkeys(item.statements))
    return make(Diagnosis, checkpoint=checkpoint, item=item.key, discipline=item.discipline,
                label=label, chain=item.chain, nodes=nodes,
                confused_with=item.options[chosen].text)


def confused_concepts(item: Item, chosen: int, pool: Iterable[Concept]) -> list[Concept]:
    """Concepts the chosen distractor names that the correct answer does not, in order of
    appearance — the ``confused`` argument of :func:`patch_samples`.

    Only an adjacency distractor (or one of unknown origin) swaps in a neighbouring concept; an
    inversion or truncation distractor confuses a relation or a step, so it gives [] (the patch
    contrasts the inverted relation / the intermediate step itself).
    """
    if item.options[chosen].operator in ("inversion", "truncation"):
        return []
    text, answer = item.options[chosen].text, item.options[item.answer].text
    found = {}
    for c in pool:
        m = _name_re(c).search(text)
        if m and not mentions(answer, c) and c.key not in found:
            found[c.key] = (m.start(), c.key, c)
    return [c for _, _, c in sorted(found.values())]


def error_rates(diagnoses: list[Diagnosis], totals: dict[str, int]) -> dict[str, float]:
    """Diagnosed failures / tested items, per discipline (every discipline of ``totals``).

    Diagnoses are counted once per item. A discipline with diagnoses but no total, or more failures
    than items, is an inconsistent input (ValueError). A total of 0 gives 0.0.
    """
    items: dict[str, set[str]] = {}
    for d in diagnoses:
        items.setdefault(d.discipline, set()).add(d.item)
    rates = {}
    for disc in sorted(set(totals) | set(items)):
        failed, total = len(items.get(disc, ())), totals.get(disc)
        if total is None or failed > total:
            raise ValueError(f"{disc}: {failed} diagnosed items but {total} tested")
        rates[disc] = failed / total if total else 0.0
    return rates


# --- patch samples -------------------------------------------------------------------------------


class _Cand(NamedTuple):
    format: str
    prompt: str
    response: str


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


def _open(prompt: str, response: str) -> _Cand:
    return _Cand("open", prompt, response)


_TF_LEADS = ("True or false: {}", "Is the following statement correct? {}",
             "Decide whether this holds: {}")


def _tf(claim: str, truth: bool, why: str, style: int = 0) -> _Cand:
    prompt = _TF_LEADS[style % len(_TF_LEADS)].format(_sent(claim))
    return _Cand("tf", prompt, f"{'True' if truth else 'False'}. {why}".strip())


def _mcq(question: str, answer: str, distractors: Iterable[str], why: str) -> _Cand | None:
    opts = _unique([answer, *distractors])[:4]
    if len(opts) < 2:
        return None
    opts.sort(key=lambda o: digest([question, o]))
    body = "\n".join(f"({chr(97 + i)}) {o}" for i, o in enumerate(opts))
    return _Cand("mcq", f"{question}\n{body}", f"{_sent(answer)} {why}".strip())


class _Ctx:
    """The texts a patch may use, each already made safe to quote."""

    def __init__(self, item: Item, chain: Chain, statements: list[Statement], n: int):
        self.n = n
        self.proc = _lc(_safe(chain.process, n)) or "this process"
        self.steps = [_safe(s.text, n) for s in chain.steps]
        self.pre = [_safe(p, n) for p in chain.preconditions if _clean(p)]
        self.statements = [s for s in statements if s.chain == chain.key] or list(statements)
        self.raw_steps = [s.text for s in chain.steps]
        self.discipline = item.discipline.replace("_", " ")

    def s(self, text: str) -> str:
        return _safe(text, self.n)

    def triple(self, s: Statement) -> str:
        rel = PHRASE.get(s.relation, s.relation.replace("_", " "))
        return f"{self.s(s.subject)} {rel} {self.s(s.object)}"

    def inverse(self, s: Statement) -> str | None:
        if s.relation in _ANTONYM:
            inv = f"{self.s(s.subject)} {_ANTONYM[s.relation]} {self.s(s.object)}"
        elif s.relation in _SWAP:
            inv = f"{self.s(s.object)} {PHRASE[s.relation]} {self.s(s.subject)}"
        else:
            return None
        asserted = {_norm(self.triple(o)) for o in self.statements}
        return None if _norm(inv) in asserted else inv

    def where(self, s: Statement) -> str:
        idx = [i for i in s.steps if 0 <= i < len(self.steps)]
        return f" In {self.proc}, this is the step where {_lc(self.steps[idx[-1]])}." if idx else ""

    def define(self, c: Concept) -> str:
        d = _clean(c.definition)
        if not d:
            return ""
        if re.match(rf"(?:(?:a|an|the)\s+)?(?:{'|'.join(map(re.escape, _names(c)))})\b", d, re.I):
            return _sent(self.s(d))
        verb = "" if re.match(r"(?:refers|means|describes|denotes|is|are)\b", d, re.I) else "is "
        return _sent(f"{c.name} {verb}{_lc(self.s(d))}")


def _match_step(text: str, steps: list[str]) -> int | None:
    """The chain step a text quotes (best word overlap, at least half of its words)."""
    w = set(words(text))
    if not w:
        return None
    scores = [len(w & set(words(s))) / max(len(w | set(words(s))), 1) for s in steps]
    best = max(range(len(steps)), key=lambda i: (scores[i], -i)) if steps else None
    return best if best is not None and scores[best] >= 0.5 else None


def _walk(steps: list[str], style: int) -> str:
    if style == 0:
        return " ".join(f"Step {i}: {_sent(s)}" for i, s in enumerate(steps, 1))
    if style == 1:
        mids = ("Next", "Then", "After that")
        parts = []
        for i, s in enumerate(steps):
            lead = "First" if i == 0 else "Finally" if i == len(steps) - 1 else mids[(i - 1) % 3]
            parts.append(f"{lead}, {_lc(s)}.")
        return " ".join(parts)
    return _sent("; as a consequence, ".join(_lc(s) if i else s for i, s in enumerate(steps)))


def _scaffolds(x: _Ctx) -> list[list[_Cand | None]]:
    """Reasoning-deficit families: the chain's steps, composed in several new wordings."""
    S, k, proc = x.steps, len(x.steps), x.proc
    if k < 2:
        return []
    premise = " and ".join(_lc(p) for p in x.pre) if x.pre else _lc(S[0])
    body = S if x.pre else S[1:]
    goal = _lc(S[-1])
    given = f"Given that {premise}: " if x.pre else ""
    fams: list[list[_Cand | None]] = [
        [_open(f"Starting from the fact that {premise}, explain step by step why {goal}.",
               _walk(body, 0))],
        [_open(f"How does {proc} get from {premise} to the point where {goal}? "
               "Go through it one step at a time.", _walk(S, 1))],
        [_open(f"In {proc}, what follows from this: {S[i]}?",
               _sent(S[i + 1]) + (f" After that, {_lc(S[i + 2])}." if i + 2 < k else
                                  " This is the final outcome."))
         for i in range(k - 1)],
        [_open(f"What has to happen in {proc} before {_lc(S[i])}?",
               f"{_sent(S[i - 1])} That step comes directly before it.") for i in range(1, k)],
        [_open(f"Why is it the case, in {proc}, that {_lc(S[i])}?",
               f"Because {_lc(S[i - 1])}." + "".join(
                   f" {_sent(x.triple(s))}" for s in x.statements if set(s.steps) >= {i - 1, i})[:600])
         for i in range(1, k)],
        [_open(f"Fill in the missing step of {proc}: first, {_lc(S[i - 1])}; then ___; "
               f"after that, {_lc(S[i + 1])}.", f"The missing step: {_sent(S[i])}")
         for i in range(1, k - 1)],
        [_open(f"Summarise {proc} as a chain of reasoning, one step at a time.",
               given + _walk(S, 2))],
        [_open(f"Given that {_lc(S[i])}, what eventually happens in {proc}, and through which steps?",
               _walk(S[i + 1:], 1)) for i in range(k - 2)],
        [_open(f"What role does this step play in {proc}: {S[i]}?",
               f"It is step {i + 1} of {k}. " + (
                   f"It follows from the step where {_lc(S[i - 1])}." if i else
                   f"It follows from the starting conditions: {premise}." if x.pre else
                   "The chain starts here.") + (
                   f" It leads on to the step where {_lc(S[i + 1])}." if i < k - 1 else
                   " It is the final outcome.")) for i in range(k)],
        [_open(f"Someone knows that {_lc(S[i])}. What should they conclude next about {proc}?",
               f"{_sent(S[i + 1])} It follows directly from that step.") for i in range(k - 1)],
        [_open(f"Which earlier step of {proc} explains why {_lc(S[i])}?",
               f"The step where {_lc(S[i - 1])}.") for i in range(1, k)],
        [_open(f"Given that {premise}, what is the first thing that happens in {proc}?",
               f"{_sent(S[0])} The rest of the chain builds on it.") if x.pre else None],
        [_mcq(f"In {proc}, which step comes directly after this one: {S[i]}?", S[i + 1],
              [*(S[j] for j in range(k) if j not in (i, i + 1)), S[i]],
              "It follows directly from that step; the other options belong elsewhere in the "
              "chain.") for i in range(k - 1)],
        [_mcq(f"In {proc}, which step comes directly before this one: {S[i]}?", S[i - 1],
              [*(S[j] for j in range(k) if j not in (i, i - 1)), S[i]],
              "It is the step that immediately precedes it in the chain.") for i in range(1, k)],
        [_mcq(f"Which step is missing between these two in {proc}: {S[i - 1]} ... {S[i + 1]}?",
              S[i], [S[j] for j in range(k) if j != i],
              "It links the earlier step to the later one.") for i in range(1, k - 1)],
        [_mcq(f"Which of these is the first step of {proc}?", S[0], S[1:],
              "Everything else follows from it.")],
        [_mcq(f"What is the end result of {proc}?", S[-1], S[:-1],
              "The other options are intermediate steps on the way there.")],
        [_tf(f"in {proc}, the step where {_lc(S[i + 1])} comes before the step where {_lc(S[i])}",
             False,
             f"It is the other way round: first {_lc(S[i])}, and after that {_lc(S[i + 1])}.", i)
         for i in range(k - 1)],
        [_tf(f"in {proc}, the step where {_lc(S[i])} leads on to the step where {_lc(S[i + 1])}",
             True, f"That is the order of the chain; step {i + 1} comes before step {i + 2}.", i + 1)
         for i in range(k - 1)],
        [_tf(f"the final outcome of {proc} is that {_lc(S[i])}", False,
             f"That is an intermediate step; the final outcome is that {goal}.", i + 2)
         for i in range(k - 1)],
    ]
    return fams


def _ordering(x: _Ctx, seed: str) -> list[_Cand]:
    S, k = x.steps, len(x.steps)
    if k < 2:
        return []
    out = []
    for v in range(2):
        order = sorted(range(k), key=lambda i: digest([seed, v, i]))
        if order == sorted(order):
            order = order[1:] + order[:1]
        labels = {i: chr(97 + pos) for pos, i in enumerate(order)}
        listed = " ".join(f"({labels[i]}) {S[i]}" for i in order)
        answer = ", then ".join(f"({labels[i]})" for i in range(k))
        out.append(_open(f"Put these steps of {x.proc} in the right order: {listed}",
                         f"{answer}. {_walk(S, 1)}"))
    return out


def _statement_fams(x: _Ctx, s: Statement, xs: list[Concept], ys: list[Concept],
                    others: list[str]) -> list[list[_Cand | None]]:
    t, inv = x.triple(s), x.inverse(s)
    ask = QUESTION.get(s.relation, "How is {} related to the rest of the chain?")
    fams: list[list[_Cand | None]] = [
        [_open(ask.format(x.s(s.subject)), _sent(t) + x.where(s) +
               (f" It is not the case that {_lc(inv)}." if inv else "")),
         _open(f"Explain how {x.s(s.subject)} and {x.s(s.object)} are connected in {x.proc}.",
               _sent(t) + x.where(s))],
        [_tf(t, True, _sent(t) + x.where(s), 0),
         _tf(inv, False, f"The relationship runs the other way: {_lc(t)}.", 1) if inv else None],
        [_mcq(f"Which statement about {x.s(s.subject)} and {x.s(s.object)} is correct?", _cap(t),
              [_cap(inv)] if inv else [], "The other option reverses the relationship.")
         if inv else None],
    ]
    rel = PHRASE.get(s.relation, s.relation.replace("_", " "))
    for c in xs:
        for y in ys:
            if _norm(s.subject) in {_norm(v) for v in _names(c)}:
                wrong = f"{y.name} {rel} {x.s(s.object)}"
                why = f"It is {c.name}, not {y.name}, that {rel} {x.s(s.object)}."
                fams.append([
                    _tf(wrong, False, why, 2),
                    _mcq(f"Which of these {rel} {x.s(s.object)}?", c.name, [y.name, *others], why),
                    _open(f"Is it {y.name} or {c.name} that {rel} {x.s(s.object)}?",
                          f"{_sent(c.name)} {_sent(t)} {x.define(y)}".strip())])
            elif _norm(s.object) in {_norm(v) for v in _names(c)} and s.relation in QUESTION:
                fams.append([_mcq(QUESTION[s.relation].format(x.s(s.subject)), c.name,
                                  [y.name, *others], f"{_sent(t)} Not {y.name}.")])
    return fams


def _definition_fams(x: _Ctx, c: Concept, ys: list[Concept], others: list[str],
                     related: list[Statement]) -> list[list[_Cand | None]]:
    dc = x.define(c)
    if not dc:
        return []
    masked = _clean(_name_re(c).sub("___", x.s(c.definition)))
    role = " ".join(_sent(x.triple(s)) for s in related[:2])
    fams: list[list[_Cand | None]] = [
        [_open(f"What is meant by {c.name} in {x.discipline}?", f"{dc} {role}".strip()),
         _open(f"Describe {c.name} and its role in {x.proc}.", f"{dc} {role}".strip())],
        [_mcq(f"Which term matches this description: {masked}?", c.name,
              [*(y.name for y in ys), *others], dc)],
        [_tf(dc, True, f"{role or dc}", 1)],
    ]
    for y in ys:
        dy = x.define(y) or f"{y.name} is a different {y.category or 'concept'}."
        fams.append([
            _open(f"What is the difference between {c.name} and {y.name}?",
                  f"{dc} {dy} The two should not be confused."),
            _open(f"A student uses {y.name} and {c.name} as if they meant the same thing. "
                  "What is wrong with that?",
                  f"They are different concepts. {dc} By contrast, {_lc(dy)}"),
            _tf(f"{c.name} and {y.name} mean the same thing", False, f"{dc} {dy}", 0),
        ])
    return fams


def _contrast(x: _Ctx, diag: Diagnosis, item: Item, targets: list[Concept],
              stmts: list[Statement], ys: list[Concept], others: list[str]) -> list[list]:
    """Concept-gap families: the correct concept/relation against what the model confused it with."""
    chosen = next((o for o in item.options if o.text == diag.confused_with), None)
    op = chosen.operator if chosen else ""
    d, a = x.s(diag.confused_with), x.s(item.options[item.answer].text)
    reason = f" {_sent(x.s(chosen.reason))}" if chosen and _clean(chosen.reason) else ""
    fams: list[list] = []
    if d:
        swapped = [c for c in targets if mentions(item.options[item.answer].text, c)
                   and not mentions(diag.confused_with, c)]
        lead = {
            "adjacency": (f"It puts {ys[0].name} where {swapped[0].name} belongs."
                          if ys and swapped else "It swaps in a neighbouring concept."),
            "inversion": "It reverses the direction of the relationship.",
            "truncation": "It stops at an intermediate step instead of the final outcome.",
        }.get(op, "It does not follow from the chain.")
        why = f"{lead}{reason} Correctly, {_lc(a)}."
        if op in ("adjacency", "inversion"):  # the distractor is a false claim in itself
            fams.append([_open(f"Explain what is wrong with this claim about {x.proc}: {d}", why),
                         _tf(d, False, why, 2)])
        else:  # a true step (truncation) or unknown: wrong only as the answer
            fams.append([_open(f"Someone gives this as the outcome of {x.proc}: {d}. "
                               "What is wrong with that answer?", why)])
    S, k = x.steps, len(x.steps)
    jd = _match_step(diag.confused_with, x.raw_steps)
    ja = _match_step(item.options[item.answer].text, x.raw_steps)
    ja = k - 1 if ja is None else ja
    if op == "truncation" and jd is not None and jd < ja:
        route = f"Next, {_lc(S[jd + 1])}" + (f", and eventually {_lc(S[ja])}." if jd + 1 < ja else ".")
        fams.append([
            _open(f"Does {x.proc} stop once {_lc(S[jd])}? If not, what comes next?",
                  f"No, that is an intermediate step. {route}"),
            _open(f"Where does the stage in which {_lc(S[jd])} lead, in {x.proc}?",
                  _walk(S[jd + 1:ja + 1], 1) if ja - jd > 1 else _sent(S[ja])),
            _mcq(f"Which of these is the end point of {x.proc}, rather than an intermediate stage?",
                 S[ja], [S[jd], *(S[j] for j in range(ja) if j != jd)],
                 f"The stage where {_lc(S[jd])} comes earlier and leads on to it."),
            _tf(f"in {x.proc}, the last step is that {_lc(S[jd])}", False,
                f"That is an intermediate step. {route}", 0)])
    for c in targets:
        rel = [s for s in x.statements if _involves(s, c)]
        fams += _definition_fams(x, c, [y for y in ys if y.key != c.key], others, rel)
    focus = stmts
    if op == "inversion":  # the relations of the answer step first
        focus = [s for s in x.statements if ja in s.steps] + stmts
    for s in {s.key: s for s in focus}.values():
        fams += _statement_fams(x, s, targets, [y for y in ys], others)
    return fams


def patch_samples(diag: Diagnosis, item: Item, chain: Chain, statements: list[Statement],
                  concepts: list[Concept], confused: list[Concept], n: int = 20,
                  mix: Sequence[int] = (6, 3, 1), patch_name: str = "", *, ngram: int = 13,
                  protected: Sequence[str] = ()) -> list[Sample]:
    """n patch samples for one diagnosis, ``mix`` open:mcq:tf (see :func:`mix_counts`).

    ``statements`` are the chain's statements, ``concepts`` the item's concepts (a superset is
    fine), ``confused`` the concepts the model mixed up (:func:`confused_concepts`). Candidates are
    taken round-robin over template families (primary first: contrastive for a concept gap,
    scaffolds for a reasoning deficit; then the other kind as a fallback), so wordings vary. Any
    candidate sharing an ``ngram``-word n-gram with the item's stem or answer, a chain step or
    precondition, the steps as a stem would juxtapose them, or a text in ``protected`` (pass the
    stems of the chain's other items) is skipped. Where the nodes cannot support n distinct
    samples, fewer are returned (never padding). ``statements``/``concepts`` of each sample are the
    diagnosed nodes; ``source`` is ``patch_name``.
    """
    if diag.label not in LABELS:
        raise ValueError(f"unknown diagnosis label {diag.label!r}")
    if not patch_name:
        raise ValueError("patch_name is required (the patch file name)")
    counts = mix_counts(n, mix)
    x = _Ctx(item, chain, statements, ngram)
    all_c = {c.key: c for c in [*concepts, *confused]}
    stmt_keys = {s.key for s in statements} | set(item.statements)
    node_s = sorted(k for k in diag.nodes if k in stmt_keys or
                    (k not in all_c and diag.label == "reasoning_deficit"))
    node_c = sorted(k for k in diag.nodes if k not in node_s)
    targets = [all_c[k] for k in diag.nodes if k in all_c]
    stmts = [s for s in x.statements if s.key in diag.nodes]
    ys = [c for c in confused if c.key not in {t.key for t in targets}]
    others = [c.name for c in _ranked(diag.key, concepts)
              if c.key not in {t.key for t in targets} and c.key not in {y.key for y in ys}]
    scaffolds = _scaffolds(x) + [_ordering(x, diag.key)]
    facts = [f for s in x.statements for f in _statement_fams(x, s, [], [], others)]
    if diag.label == "concept_gap":
        tiers = [_contrast(x, diag, item, targets, stmts, ys, others), scaffolds + facts]
    else:
        tiers = [scaffolds, facts]
    banned = _banned(item, chain, protected, ngram)
    seen: set[str] = set()
    out: list[Sample] = []
    for fmt, count in zip(FORMATS, counts):
        for cand in _pick(tiers, fmt, count, diag.key, seen, banned, ngram):
            out.append(make(Sample, discipline=item.discipline, format=cand.format,
                            prompt=cand.prompt, response=cand.response, statements=node_s,
                            concepts=node_c, origin="patch", source=patch_name))
    return out


def _banned(item: Item, chain: Chain, extra: Sequence[str], n: int) -> set[tuple[str, ...]]:
    steps = [s.text for s in chain.steps]
    pre = list(chain.preconditions)
    texts = [item.stem, item.options[item.answer].text, *steps, *pre, *extra,
             " ".join(pre + steps), " ".join(pre + steps[:-1])]
    texts += [" ".join(pre + steps[:i] + steps[i + 1:]) for i in range(len(steps))]
    return set().union(*(ngrams(t, n) for t in texts))


def _pick(tiers: list[list[list]], fmt: str, count: int, seed: str, seen: set[str],
          banned: set[tuple[str, ...]], n: int) -> list[_Cand]:
    """Round-robin over the families of each tier (each family rotated by the seed)."""
    out: list[_Cand] = []
    for t, families in enumerate(tiers):
        queues = []
        for f, fam in enumerate(families):
            q = [c for c in fam if c is not None and c.format == fmt]
            if q:
                r = int(digest([seed, t, f])[:8], 16) % len(q)
                queues.append(q[r:] + q[:r])
        while len(out) < count and any(queues):
            for q in queues:
                while q and len(out) < count:
                    c = q.pop(0)
                    text = prompting.sample_text(c.prompt, c.response)
                    if c.prompt in seen or ngrams(f"{c.prompt} {c.response}", n) & banned \
                            or ngrams(text, n) & banned:
                        continue
                    seen.add(c.prompt)
                    out.append(c)
                    break
    return out


# --- replay --------------------------------------------------------------------------------------


def replay_samples(originals: list[Sample], patch: list[Sample], ratio: float, seed: str,
                   *, patch_name: str | None = None) -> list[Sample]:
    """round(ratio * len(patch)) originals (half up), none sharing a statement with the patch.

    The subset (returned in that order) is the originals ranked by xxh3(seed, key): deterministic,
    independent of input order, and adding originals only swaps in those that outrank the chosen
    ones. Copies get origin="replay" and source = ``patch_name`` (default: the patch samples'
    source); identity is (format, prompt, response), so a copy keeps its original's key.
    """
    if ratio < 0:
        raise ValueError(f"replay ratio must be >= 0, got {ratio}")
    count = int(ratio * len(patch) + 0.5)
    if not count:
        return []
    name = patch_name if patch_name is not None else patch[0].source
    used = {k for s in patch for k in s.statements}
    taken = {s.key for s in patch}
    pool = {s.key: s for s in originals if s.key not in taken and not used & set(s.statements)}
    return [_replay(s, name) for s in _ranked(seed, pool.values())[:count]]


def _replay(s: Sample, name: str) -> Sample:
    fields = {f: getattr(s, f) for f in s.__struct_fields__ if f != "key"}
    return make(Sample, **{**fields, "origin": "replay", "source": name})
