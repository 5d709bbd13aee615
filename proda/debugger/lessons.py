"""What a patch teaches: families of training candidates about the nodes behind a failure, in new
wording — definitions, relations and their direction, contrasts against a confused concept, and how
a chain's relations compose. Facts come from L2 triples (subject, relation, object) and clipped
restatements of L1 definitions (proda/synth/samples.py ``Names``); never an item's stem, a chain
step or an answer sentence. ``patch.py`` still checks every candidate against every item.

Each family holds one fact in several wordings (paraphrase diversity); ``patch.py`` takes families
round-robin so that no fact or wording dominates. Every candidate names the statements and concepts
it teaches (its provenance in the patch file), and says whether it spells out something false or
confusable — a false claim to refute, wrong claims as options, the confused concept beside the right
one (``negative``): a small model trained on every token learns that text as much as the true one,
so ``debug.lessons = "positive"`` leaves such candidates out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ..hashing import digest
from ..records import Concept, Statement
from ..synth.samples import Names
from ..text import relations as R
from .wording import capitalise, lower_first, normalised, sentence, unique_texts


class Cand(NamedTuple):
    format: str  # open | mcq | tf
    prompt: str
    response: str
    statements: tuple[str, ...] = ()  # the L2 keys it teaches
    concepts: tuple[str, ...] = ()  # the L1 keys it teaches
    # it spells out something false (a false claim to refute, a wrong option, the confused concept
    # in the place of the right one): a small model trained on every token learns that text too
    negative: bool = False


Family = list[Cand]

_TF_LEADS = ("True or false: {}", "Is this statement correct? {}", "Decide whether this holds: {}",
             "Right or wrong: {}")


def _open(prompt: str, response: str) -> Cand:
    return Cand("open", prompt, response)


def _tf(claim: str, truth: bool, why: str, style: int) -> Cand:
    prompt = _TF_LEADS[style % len(_TF_LEADS)].format(sentence(claim))
    return Cand("tf", prompt, f"{'True' if truth else 'False'}. {sentence(why)}", negative=not truth)


def _mcq(question: str, answer: str, distractors: Sequence[str], why: str, negative: bool = False) -> Cand | None:
    opts = unique_texts([answer, *distractors])[:4]
    if len(opts) < 2:
        return None
    opts.sort(key=lambda o: digest([question, o]))
    body = "\n".join(f"({chr(97 + i)}) {o}" for i, o in enumerate(opts))
    return Cand("mcq", f"{question}\n{body}", f"{sentence(answer)} {sentence(why)}", negative=negative)


def _family(cands: Sequence[Cand | None], statements: Sequence[str] = (),
            concepts: Sequence[str] = ()) -> Family:
    st, co = tuple(dict.fromkeys(statements)), tuple(dict.fromkeys(concepts))
    return [c._replace(statements=st, concepts=co) for c in cands if c is not None]


def _negative(c: Cand | None) -> Cand | None:
    return c._replace(negative=True) if c is not None else None


class Facts:
    """Names, claims and short definitions, from the knowledge graph (never from sentences)."""

    def __init__(self, names: Names, process: str, paraphrases: int = 0):
        self.names = names
        self.process = process or "this process"
        self.paraphrases = paraphrases  # extra wordings of each relation (relations.PARAPHRASES)

    def name(self, surface: str) -> str:
        return self.names.name(surface)

    def concept_keys(self, s: Statement) -> list[str]:
        return [c.key for side in (s.subject, s.object) if (c := self.names.concept(side))]

    def claim(self, s: Statement, phrase: str | None = None, swap: bool = False) -> str:
        a, b = self.name(s.subject), self.name(s.object)
        return f"{b} {phrase or R.phrase(s.relation)} {a}" if swap else f"{a} {phrase or R.phrase(s.relation)} {b}"

    def wrong_claims(self, s: Statement) -> list[tuple[str, str]]:
        """False readings of a statement — opposite sign, reversed direction — each with why."""
        p, right, out = R.phrasing(s.relation), self.claim(s), []
        if s.relation in R.ANTONYM:
            out.append((self.claim(s, R.phrase(R.ANTONYM[s.relation])), f"the effect has the opposite sign: {right}"))
        if s.relation in R.SWAP:
            out.append((self.claim(s, swap=True), f"that reverses the direction; {right}, not the other way round"))
        return out

    def define(self, c: Concept) -> str:
        return self.names.definition(c.name)


def relation_lessons(f: Facts, s: Statement, others: Sequence[str], style: int) -> list[Family]:
    """One relation, asked and told in several wordings, with its false readings refuted."""
    a, b = f.name(s.subject), f.name(s.object)
    p, right = R.phrasing(s.relation), f.claim(s)
    direction = f"The link runs from {a} to {b}." if s.relation in R.SWAP | set(R.ANTONYM) else ""
    told = f"{sentence(right)} {direction}".strip()
    wrongs = f.wrong_claims(s)
    ask = R.object_question(s.relation, a) if s.relation not in R.AMBIGUOUS else None
    opens = [_open(f"How are {a} and {b} connected?", told),
             _open(f"State the link between {b} and {a}, and which way it runs.", told),
             _open(f"What do we know about how {a} bears on {b}?", told)]
    if ask:
        opens.append(_open(ask, told))
    if p.verb:
        opens.append(_open(f"Name what {p.phrase} {b}.", f"{capitalise(a)}. {told}"))
    if s.relation in R.ANTONYM:
        other = R.phrasing(R.ANTONYM[s.relation]).verb
        opens.append(_negative(_open(f"Does {a} {p.verb} or {other} {b}?", f"{told} It does not {other} it.")))
    tfs = [_tf(right, True, told, style)]
    tfs += [_tf(w, False, why, style + 1 + i) for i, (w, why) in enumerate(wrongs)]
    mcqs = [_mcq(f"Which statement about {a} and {b} is correct?", right, [w for w, _ in wrongs],
                 "The other options flip the sign or the direction of the link", negative=True) if wrongs else None]
    if ask and others:
        mcqs.append(_mcq(ask, b, [o for o in others if normalised(o) not in (normalised(a), normalised(b))], right))
    if s.relation in R.CONTRAST:
        mcqs.append(_mcq(f"Which relation holds: {a} ___ {b}?", p.phrase, R.CONTRAST[s.relation], right,
                         negative=True))
    keys = f.concept_keys(s)
    fams = [_family(fam, [s.key], keys) for fam in (opens, tfs, mcqs)]
    if f.paraphrases:  # the same fact in other wordings, told and asked
        said = R.paraphrases(s.relation, a, b)[:f.paraphrases]
        fams.append(_family([_open(f"What does it mean that {x}?", f"It means that {right}. {sentence(x)}")
                             for x in said], [s.key], keys))
        fams.append(_family([_open(f"Is it right to say that {x}?", f"Yes. {sentence(x)} In other words, {right}.")
                             for x in said], [s.key], keys))
        fams.append(_family([_tf(x, True, f"{sentence(x)} That is, {lower_first(right)}", style + i)
                             for i, x in enumerate(said)], [s.key], keys))
    return fams


def definition_lessons(f: Facts, c: Concept, related: Sequence[Statement], others: Sequence[str],
                       style: int) -> list[Family]:
    """What a concept is (a clipped restatement of its definition) and what it is linked to."""
    d = f.define(c)
    links = " ".join(sentence(f.claim(s)) for s in related[:2])
    rel_keys = [s.key for s in related[:2]]
    fams: list[Family] = []
    if d:
        phrase = d.split(" can be described as ", 1)[-1].rstrip(".")
        fams.append(_family([_open(f"What is {c.name}?", f"{d} {links}".strip()),
                             _open(f"Describe {c.name} in a sentence or two.", f"{d} {links}".strip()),
                             _open(f"Explain the term {c.name}.", d)], rel_keys, [c.key]))
        fams.append(_family([_mcq(f"Which term can be described as {phrase}?", c.name, others, d),
                             _tf(d, True, f"{d} {links}".strip(), style)], (), [c.key]))
    if links:
        ask = f"Name two facts about {c.name}." if len(related) >= 2 else f"Name one fact about {c.name}."
        fams.append(_family([_open(ask, links),
                             _open(f"What is {c.name} linked to in {f.process}?", links)], rel_keys, [c.key]))
    return fams


def contrast_lessons(f: Facts, c: Concept, y: Concept, related: Sequence[Statement], style: int) -> list[Family]:
    """The right concept against the one the model confused it with: what each is, and which of the
    two takes part in each relation of the right one. All of it names the confused concept beside
    the right one, so all of it counts as ``negative``."""
    dc, dy = f.define(c), f.define(y)
    both = " ".join(x for x in (dc, dy) if x) or f"{capitalise(c.name)} and {y.name} are different concepts."
    fams: list[Family] = [_family([
        _negative(_open(f"What is the difference between {c.name} and {y.name}?",
                        f"{both} The two should not be swapped.")),
        _negative(_open(f"Someone uses {y.name} where {c.name} is meant. Why is that a mistake?",
                        f"They are not the same. {both}")),
        _tf(f"{c.name} and {y.name} are the same thing", False, both, style)], (), [c.key, y.key])]
    for s in related:
        a, b, phrase = f.name(s.subject), f.name(s.object), R.phrase(s.relation)
        if normalised(a) == normalised(c.name):
            why = f"It is {c.name}, not {y.name}, that {phrase} {b}"
            fams.append(_family([_tf(f"{y.name} {phrase} {b}", False, why, style + 1),
                                 _mcq(f"Which of these {phrase} {b}?", c.name, [y.name], why, negative=True),
                                 _negative(_open(f"Is it {c.name} or {y.name} that {phrase} {b}?", sentence(why)))],
                                [s.key], [c.key, y.key]))
        elif normalised(b) == normalised(c.name):
            why = f"{capitalise(a)} {phrase} {c.name}, not {y.name}"
            fams.append(_family([_tf(f"{a} {phrase} {y.name}", False, why, style + 2),
                                 _negative(_open(f"Which does {a} bear on here: {c.name} or {y.name}?",
                                                 sentence(why)))],
                                [s.key], [c.key, y.key]))
    return fams


def composition_lessons(f: Facts, ordered: Sequence[Statement], others: Sequence[str]) -> list[Family]:
    """How a chain's relations compose, told as a path of triples (never the chain's sentences)."""
    fams: list[Family] = []
    for s1, s2 in zip(ordered, ordered[1:]):
        a, mid, mid2, c = f.name(s1.subject), f.name(s1.object), f.name(s2.subject), f.name(s2.object)
        if normalised(mid) != normalised(mid2) or normalised(a) == normalised(c):
            continue
        path = f"{sentence(f.claim(s1))} In turn, {lower_first(f.claim(s2))}."
        skip = {normalised(a), normalised(c), normalised(mid)}
        fams.append(_family([
            _open(f"How does {a} lead on to {c}?", f"Through {mid}. {path}"),
            _open(f"Given that {f.claim(s1)}, what follows for {c}?", path),
            _mcq(f"Through which link does {a} bear on {c}?", mid,
                 [o for o in others if normalised(o) not in skip], path)],
            [s1.key, s2.key], f.concept_keys(s1) + f.concept_keys(s2)))
    if len(ordered) >= 2:
        shown = list(ordered[:4])
        path = sentence(f.claim(shown[0])) + "".join(f" Then, {lower_first(f.claim(s))}." for s in shown[1:])
        first, last = shown[0], shown[-1]
        keys = [k for s in shown for k in f.concept_keys(s)]
        fams.append(_family([
            _open(f"Trace {f.process} as a series of links, in order.", path),
            _open(f"In {f.process}, which link comes first: {f.claim(last)}, or {f.claim(first)}?",
                  f"First, {lower_first(f.claim(first))}. Later, {lower_first(f.claim(last))}."),
            _tf(f"in {f.process}, the link {f.claim(last)} comes before the link {f.claim(first)}", False,
                f"The order is the other way round: first {lower_first(f.claim(first))}", 0)],
            [s.key for s in shown], keys))
    return fams
