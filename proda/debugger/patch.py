"""Targeted patch samples for a diagnosed failure, in the open:mcq:tf mix: contrasts against the
confused concept, the inverted relation, the truncated chain (concept gap), or step-by-step
scaffolds of the chain in new wordings (reasoning deficit). Orthogonal to the benchmark."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple


from ..hashing import digest
from ..records import Chain, Concept, Diagnosis, Item, Sample, Statement, make
from ..synth.orthogonality import ngrams, words
from ..text import format as prompting, relations as R
from .diagnosis import LABELS
from .wording import (asked_about, capitalise, cleaned, involves, lower_first, mentions, name_pattern, names_of, normalised, ranked,
                      safe_quote, sentence, unique_texts)


FORMATS = ("open", "mcq", "tf")


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
    prompt = _TF_LEADS[style % len(_TF_LEADS)].format(sentence(claim))
    return _Cand("tf", prompt, f"{'True' if truth else 'False'}. {why}".strip())


def _mcq(question: str, answer: str, distractors: Iterable[str], why: str) -> _Cand | None:
    opts = unique_texts([answer, *distractors])[:4]
    if len(opts) < 2:
        return None
    opts.sort(key=lambda o: digest([question, o]))
    body = "\n".join(f"({chr(97 + i)}) {o}" for i, o in enumerate(opts))
    return _Cand("mcq", f"{question}\n{body}", f"{sentence(answer)} {why}".strip())


class _Ctx:
    """The texts a patch may use, each already made safe to quote."""

    def __init__(self, item: Item, chain: Chain, statements: list[Statement], n: int):
        self.n = n
        self.proc = lower_first(safe_quote(chain.process, n)) or "this process"
        self.steps = [safe_quote(s.text, n) for s in chain.steps]
        self.pre = [safe_quote(p, n) for p in chain.preconditions if cleaned(p)]
        self.statements = [s for s in statements if s.chain == chain.key] or list(statements)
        self.raw_steps = [s.text for s in chain.steps]
        self.discipline = item.discipline.replace("_", " ")

    def s(self, text: str) -> str:
        return safe_quote(text, self.n)

    def triple(self, s: Statement) -> str:
        rel = R.phrase(s.relation)
        return f"{self.s(s.subject)} {rel} {self.s(s.object)}"

    def inverse(self, s: Statement) -> str | None:
        if s.relation in R.ANTONYM:
            inv = f"{self.s(s.subject)} {R.ANTONYM[s.relation]} {self.s(s.object)}"
        elif s.relation in R.SWAP:
            inv = f"{self.s(s.object)} {R.phrase(s.relation)} {self.s(s.subject)}"
        else:
            return None
        asserted = {normalised(self.triple(o)) for o in self.statements}
        return None if normalised(inv) in asserted else inv

    def where(self, s: Statement) -> str:
        idx = [i for i in s.steps if 0 <= i < len(self.steps)]
        return f" In {self.proc}, this is the step where {lower_first(self.steps[idx[-1]])}." if idx else ""

    def define(self, c: Concept) -> str:
        d = cleaned(c.definition)
        if not d:
            return ""
        if re.match(rf"(?:(?:a|an|the)\s+)?(?:{'|'.join(map(re.escape, names_of(c)))})\b", d, re.I):
            return sentence(self.s(d))
        verb = "" if re.match(r"(?:refers|means|describes|denotes|is|are)\b", d, re.I) else "is "
        return sentence(f"{c.name} {verb}{lower_first(self.s(d))}")


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
        return " ".join(f"Step {i}: {sentence(s)}" for i, s in enumerate(steps, 1))
    if style == 1:
        mids = ("Next", "Then", "After that")
        parts = []
        for i, s in enumerate(steps):
            lead = "First" if i == 0 else "Finally" if i == len(steps) - 1 else mids[(i - 1) % 3]
            parts.append(f"{lead}, {lower_first(s)}.")
        return " ".join(parts)
    return sentence("; as a consequence, ".join(lower_first(s) if i else s for i, s in enumerate(steps)))


def _scaffolds(x: _Ctx) -> list[list[_Cand | None]]:
    """Reasoning-deficit families: the chain's steps, composed in several new wordings."""
    S, k, proc = x.steps, len(x.steps), x.proc
    if k < 2:
        return []
    premise = " and ".join(lower_first(p) for p in x.pre) if x.pre else lower_first(S[0])
    body = S if x.pre else S[1:]
    goal = lower_first(S[-1])
    given = f"Given that {premise}: " if x.pre else ""
    fams: list[list[_Cand | None]] = [
        [_open(f"Starting from the fact that {premise}, explain step by step why {goal}.",
               _walk(body, 0))],
        [_open(f"How does {proc} get from {premise} to the point where {goal}? "
               "Go through it one step at a time.", _walk(S, 1))],
        [_open(f"In {proc}, what follows from this: {S[i]}?",
               sentence(S[i + 1]) + (f" After that, {lower_first(S[i + 2])}." if i + 2 < k else
                                  " This is the final outcome."))
         for i in range(k - 1)],
        [_open(f"What has to happen in {proc} before {lower_first(S[i])}?",
               f"{sentence(S[i - 1])} That step comes directly before it.") for i in range(1, k)],
        [_open(f"Why is it the case, in {proc}, that {lower_first(S[i])}?",
               f"Because {lower_first(S[i - 1])}." + "".join(
                   f" {sentence(x.triple(s))}" for s in x.statements if set(s.steps) >= {i - 1, i})[:600])
         for i in range(1, k)],
        [_open(f"Fill in the missing step of {proc}: first, {lower_first(S[i - 1])}; then ___; "
               f"after that, {lower_first(S[i + 1])}.", f"The missing step: {sentence(S[i])}")
         for i in range(1, k - 1)],
        [_open(f"Summarise {proc} as a chain of reasoning, one step at a time.",
               given + _walk(S, 2))],
        [_open(f"Given that {lower_first(S[i])}, what eventually happens in {proc}, and through which steps?",
               _walk(S[i + 1:], 1)) for i in range(k - 2)],
        [_open(f"What role does this step play in {proc}: {S[i]}?",
               f"It is step {i + 1} of {k}. " + (
                   f"It follows from the step where {lower_first(S[i - 1])}." if i else
                   f"It follows from the starting conditions: {premise}." if x.pre else
                   "The chain starts here.") + (
                   f" It leads on to the step where {lower_first(S[i + 1])}." if i < k - 1 else
                   " It is the final outcome.")) for i in range(k)],
        [_open(f"Someone knows that {lower_first(S[i])}. What should they conclude next about {proc}?",
               f"{sentence(S[i + 1])} It follows directly from that step.") for i in range(k - 1)],
        [_open(f"Which earlier step of {proc} explains why {lower_first(S[i])}?",
               f"The step where {lower_first(S[i - 1])}.") for i in range(1, k)],
        [_open(f"Given that {premise}, what is the first thing that happens in {proc}?",
               f"{sentence(S[0])} The rest of the chain builds on it.") if x.pre else None],
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
        [_tf(f"in {proc}, the step where {lower_first(S[i + 1])} comes before the step where {lower_first(S[i])}",
             False,
             f"It is the other way round: first {lower_first(S[i])}, and after that {lower_first(S[i + 1])}.", i)
         for i in range(k - 1)],
        [_tf(f"in {proc}, the step where {lower_first(S[i])} leads on to the step where {lower_first(S[i + 1])}",
             True, f"That is the order of the chain; step {i + 1} comes before step {i + 2}.", i + 1)
         for i in range(k - 1)],
        [_tf(f"the final outcome of {proc} is that {lower_first(S[i])}", False,
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
    ask = asked_about(s.relation, x.s(s.subject)) or f"How is {x.s(s.subject)} related to the rest of the chain?"
    fams: list[list[_Cand | None]] = [
        [_open(ask, sentence(t) + x.where(s) +
               (f" It is not the case that {lower_first(inv)}." if inv else "")),
         _open(f"Explain how {x.s(s.subject)} and {x.s(s.object)} are connected in {x.proc}.",
               sentence(t) + x.where(s))],
        [_tf(t, True, sentence(t) + x.where(s), 0),
         _tf(inv, False, f"The relationship runs the other way: {lower_first(t)}.", 1) if inv else None],
        [_mcq(f"Which statement about {x.s(s.subject)} and {x.s(s.object)} is correct?", capitalise(t),
              [capitalise(inv)] if inv else [], "The other option reverses the relationship.")
         if inv else None],
    ]
    rel = R.phrase(s.relation)
    for c in xs:
        for y in ys:
            if normalised(s.subject) in {normalised(v) for v in names_of(c)}:
                wrong = f"{y.name} {rel} {x.s(s.object)}"
                why = f"It is {c.name}, not {y.name}, that {rel} {x.s(s.object)}."
                fams.append([
                    _tf(wrong, False, why, 2),
                    _mcq(f"Which of these {rel} {x.s(s.object)}?", c.name, [y.name, *others], why),
                    _open(f"Is it {y.name} or {c.name} that {rel} {x.s(s.object)}?",
                          f"{sentence(c.name)} {sentence(t)} {x.define(y)}".strip())])
            elif normalised(s.object) in {normalised(v) for v in names_of(c)} and asked_about(s.relation, s.subject) is not None:
                fams.append([_mcq(asked_about(s.relation, x.s(s.subject)), c.name,
                                  [y.name, *others], f"{sentence(t)} Not {y.name}.")])
    return fams


def _definition_fams(x: _Ctx, c: Concept, ys: list[Concept], others: list[str],
                     related: list[Statement]) -> list[list[_Cand | None]]:
    dc = x.define(c)
    if not dc:
        return []
    masked = cleaned(name_pattern(c).sub("___", x.s(c.definition)))
    role = " ".join(sentence(x.triple(s)) for s in related[:2])
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
                  f"They are different concepts. {dc} By contrast, {lower_first(dy)}"),
            _tf(f"{c.name} and {y.name} mean the same thing", False, f"{dc} {dy}", 0),
        ])
    return fams


def _contrast(x: _Ctx, diag: Diagnosis, item: Item, targets: list[Concept],
              stmts: list[Statement], ys: list[Concept], others: list[str]) -> list[list]:
    """Concept-gap families: the correct concept/relation against what the model confused it with."""
    chosen = next((o for o in item.options if o.text == diag.confused_with), None)
    op = chosen.operator if chosen else ""
    d, a = x.s(diag.confused_with), x.s(item.options[item.answer].text)
    reason = f" {sentence(x.s(chosen.reason))}" if chosen and cleaned(chosen.reason) else ""
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
        why = f"{lead}{reason} Correctly, {lower_first(a)}."
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
        route = f"Next, {lower_first(S[jd + 1])}" + (f", and eventually {lower_first(S[ja])}." if jd + 1 < ja else ".")
        fams.append([
            _open(f"Does {x.proc} stop once {lower_first(S[jd])}? If not, what comes next?",
                  f"No, that is an intermediate step. {route}"),
            _open(f"Where does the stage in which {lower_first(S[jd])} lead, in {x.proc}?",
                  _walk(S[jd + 1:ja + 1], 1) if ja - jd > 1 else sentence(S[ja])),
            _mcq(f"Which of these is the end point of {x.proc}, rather than an intermediate stage?",
                 S[ja], [S[jd], *(S[j] for j in range(ja) if j != jd)],
                 f"The stage where {lower_first(S[jd])} comes earlier and leads on to it."),
            _tf(f"in {x.proc}, the last step is that {lower_first(S[jd])}", False,
                f"That is an intermediate step. {route}", 0)])
    for c in targets:
        rel = [s for s in x.statements if involves(s, c)]
        fams += _definition_fams(x, c, [y for y in ys if y.key != c.key], others, rel)
    focus = stmts
    if op == "inversion":  # the relations of the answer step first
        focus = [s for s in x.statements if ja in s.steps] + stmts
    for s in {s.key: s for s in focus}.values():
        fams += _statement_fams(x, s, targets, [y for y in ys], others)
    return fams


def patch_samples(diag: Diagnosis, item: Item, chain: Chain, statements: list[Statement],
                  concepts: list[Concept], confused: list[Concept], n: int = 20,
                  mix: Sequence[int] = (6, 3, 1), patch_name: str = "", *, ngram: int,
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
    others = [c.name for c in ranked(diag.key, concepts)
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


