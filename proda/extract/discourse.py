"""L3 reasoning chains from discourse: which sentences (or clauses) follow from the one before.

A chain is a run of steps joined by inferential links (``nodes.CHAIN``). Between two consecutive prose
sentences of one section the link is

- *strong* when the second opens with a consequence, sequence or explanation connective
  ("Therefore", "As a result", "In this case", "Then", "Finally", "This is because"), or the two are
  consecutive items of a numbered procedure ("1. …", "2. …");
- *medium* when, in the same paragraph, the second takes up what the first said — its subject is an
  anaphor ("This", "These changes", "It") or a noun phrase from the first sentence's predicate — and
  its verb is causal ("leads to", "reduces", "allows", …);
- absent otherwise: shared words, "For example", "However", "In addition" or a definition after a
  definition join nothing.

Maximal linked runs become chains (cut at ``max_steps``). A sentence outside every run whose clauses
are linked inside it ("X, so Y", "Y because X", "If X, then Y", "X, resulting in Y") becomes a chain of
its clauses, cause first. Preconditions are premises stated just before the chain ("Suppose …",
"Consider …"), or a chain's own opening premise; never a step.

Pure functions over ``segment.Sentence`` lists; offsets stay those of the segmented text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from . import phrases as P
from .segment import Sentence

_OPEN = r"^(?:and\s+|but\s+|so\s+)?"
_STRONG = re.compile(_OPEN + r"(?:therefore|thus|hence|consequently|accordingly|as\s+a\s+(?:result|consequence)"
                     r"|so\b(?!\s+(?:far|much|many|long|called|too)\b)|for\s+(?:this|that|these)\s+reasons?"
                     r"|because\s+of\s+(?:this|that|these)|due\s+to\s+(?:this|that|these)"
                     r"|(?:this|that|which)\s+(?:means|meant|implies|implied|is\s+why|was\s+why|explains\s+why"
                     r"|leads?\s+to|led\s+to|results?\s+in|resulted\s+in|causes|caused|allows|allowed)"
                     r"|it\s+follows|in\s+turn|in\s+(?:this|that|each|either|such\s+a)\s+case|in\s+this\s+way"
                     r"|given\s+(?:this|that|these|those)|under\s+(?:these|those|such)\s+conditions|as\s+such"
                     r"|eventually|ultimately|in\s+the\s+process"
                     r"|then\b|next\b|finally\b|afterwards?\b|subsequently|after\s+(?:this|that|these)"
                     r"|once\s+(?:this|that|these)|at\s+this\s+(?:point|stage)|when\s+this\s+happens"
                     r"|(?:this|that|it)\s+(?:is|was|happens|occurs)\s+because"
                     r"|later\b|after\s+(?:a|an|several|some|many|two|three|a\s+few)\s+(?:\w+\s+)?(?:seconds|minutes|hours|days"
                     r"|weeks|months|years|decades|centuries)"
                     r"|(?:this|these|that|those|such)(?:\s+[\w-]+){0,2}\s+(?:suggests?|suggested|indicates?|indicated|shows?"
                     r"|showed|demonstrates?|demonstrated|implies|implied|confirms?|confirmed|proves?|proved)\b"
                     r"|(?:[\w’'-]+\s+){1,3}(?:then|therefore|thus|consequently|concluded|inferred|reasoned)\b)",
                     re.IGNORECASE)
_IN_TURN = re.compile(r"(?:^|,\s*)in\s+turn\s*,", re.IGNORECASE)  # "This work, in turn, ..." (not "consider X in turn")
_NOT_A_LINK = re.compile(_OPEN + r"(?:for\s+(?:example|instance)|however|in\s+contrast|on\s+the\s+other\s+hand"
                         r"|similarly|likewise|in\s+addition|additionally|moreover|furthermore|also|another"
                         r"|other|some|many|most|one\s+of)\b", re.IGNORECASE)
_ANAPHOR = re.compile(r"^(?:(?:this|these|that|those|such)(?:\s+[a-z-]+){0,2}|it|they)\s", re.IGNORECASE)
_CAUSAL_VERB = re.compile(
    r"\b(?:causes?|caused|leads?\s+to|led\s+to|results?\s+in|resulted\s+in|produces?|produced|allows?|allowed"
    r"|enables?|enabled|prevents?|prevented|triggers?|triggered|creates?|created|forces?|forced|drives?|drove"
    r"|increases?|increased|decreases?|decreased|reduces?|reduced|raises?|raised|lowers?|lowered|makes?|made"
    r"|gives?\s+rise|brings?\s+about|brought\s+about|explains?|shifts?|shifted"
    r"|releases?|released|activates?|activated|stimulates?|stimulated|inhibits?|inhibited)\b", re.IGNORECASE)
_NUMBERED = re.compile(r"^(\d{1,2})[.)]\s")
_PREMISE = re.compile(r"^(?:for\s+(?:example|instance),\s+)?(?:suppose|supposing|assume|assuming|consider|imagine"
                      r"|given\s+(?:that|a|an|the)|let['’]s|let\s+us|recall\s+that|say\s+that"
                      r"|(?:you|we)\s+(?:might|may|could)\s+have)\b", re.IGNORECASE)

# Clause links inside one sentence: (pattern, cause group, effect group). Tried in order.
_LEAD = (r"(?:(?:(?:for|in|at|on|to|from|with|under|during|after|before|according\s+to)\s+[^,]{1,30}"
         r"|\w+ly|however|thus|therefore|then|similarly|also|so|in\s+turn),\s+)?")
_CLAUSES = [
    (re.compile(r"^" + _LEAD + r"because\s+(?P<c>[^,]{12,}?),\s*(?P<e>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^" + _LEAD + r"(?P<c>(?:if|whenever|once|since|when)\s+(?!\w+(?:ing|ed)\b)[^,]{12,}?),\s*(?:then\s+)?"
                r"(?P<e>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^" + _LEAD + r"(?P<c>by\s+\w+ing\b[^,]{8,}?),\s*(?P<e>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?P<e>.{12,}?),?\s+because\s+(?!of\b)(?P<c>.{12,})$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?P<c>.{12,}?)(?:[,;]\s*(?:and\s+)?(?:so|thus|therefore|hence|consequently|as\s+a\s+result)\b,?"
                r"|,\s*so\s+that\b(?!\s+\w+\s+(?:can|could|may|might|will|would)\b))\s+(?P<e>.{12,})$",
                re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?P<c>.{12,}?),\s*(?P<e>(?:(?:and\s+)?(?:eventually\s+|ultimately\s+|thereby\s+)?(?:resulting\s+in"
                r"|causing|leading\s+to|giving\s+rise\s+to|producing|triggering|reducing|increasing|allowing)"
                r"|(?:which|that)\s+(?:in\s+turn\s+)?(?:means|meant|causes|caused|leads\s+to|led\s+to|results\s+in"
                r"|resulted\s+in|allows|produces))\b\s*.{8,})$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?P<c>.{12,}?),?\s+(?P<e>(?:and\s+then|which\s+(?:can\s+|will\s+|may\s+)?then)\s+"
                r"(?!(?:at|in|on|to|from|by|into|with|the|a|an)\b).{12,})$",
                re.IGNORECASE | re.DOTALL), "c", "e"),
]
_MORE_EFFECTS = re.compile(r",\s*(?=(?:and\s+)?(?:eventually\s+|ultimately\s+|thereby\s+)?(?:resulting\s+in|causing"
                           r"|leading\s+to|giving\s+rise\s+to)\b|which\s+(?:can\s+|will\s+|may\s+)?then\b)",
                           re.IGNORECASE)
_SUBORDINATORS = frozenset("if when whenever once since because by".split())
_STEP_OPENER = re.compile(r"^(?:that|and|then|so)\s+", re.IGNORECASE)


class Step(NamedTuple):
    text: str
    start: int  # offsets into the segmented text
    end: int


class Run(NamedTuple):
    units: list[int]  # indices into the unit list (sentences); one index for a clause chain
    steps: list[Step]
    preconditions: list[Step]


def _opening(text: str) -> str:
    """The sentence after a list marker, for connective matching."""
    m = _NUMBERED.match(text) or re.match(r"^[-*•]\s+", text)
    return text[m.end():] if m else text


_DEFINITION = re.compile(r"^(?:an?\s+|the\s+)?[\w'’-]+(?:\s+[\w'’-]+){0,3}\s+(?:is|are)\s+(?:an?|the)\s", re.IGNORECASE)
_EXPLETIVE = re.compile(r"^(?:it|this|that)\s+(?:is|was|seems|appears|remains)\s+(?:\w+\s+){0,2}?(?:to|that|for|not)\b",
                        re.IGNORECASE)
_AFTER_SUBJECT = re.compile(r"^[\s,]*(?:(?:can|could|may|might|will|would|also|often|then|thus|therefore|in\s+turn"
                            r"|eventually|in\s+part|partly|directly|indirectly|\w+ly|,)\s*)*", re.IGNORECASE)


def _main_verb_causal(text: str) -> bool:
    """Whether the verb right after the sentence's subject is a causal one ("This change leads to ...",
    "This deep insult, combined with drought, led to ...")."""
    m = _ANAPHOR.match(text)
    if m:
        words = text.split(" ")
        for skip in (1, 2, 3):  # "This [deep] [insult], combined with X, led to", "These changes raise"
            rest = " " + " ".join(words[skip:])
            interjected = re.match(r"\s*,[^,]{0,160},\s*", rest)
            rest = rest[interjected.end():] if interjected else rest
            if _CAUSAL_VERB.match(rest[_AFTER_SUBJECT.match(rest).end():]):
                return True
        return False
    subj = P.subject(text)
    at = text.find(subj) if subj else -1
    if at < 0:
        lead = re.match(r"^(?:[\w’'-]+\s+){1,4}?(?=" + _CAUSAL_VERB.pattern[2:-2] + r")", text, re.IGNORECASE)
        return bool(lead)  # "Lower current reduces ...": an adjective the subject finder took for a verb
    rest = text[at + len(subj):]
    rest = rest[_AFTER_SUBJECT.match(rest).end():]
    return bool(_CAUSAL_VERB.match(rest))


def _subject_head(text: str) -> str:
    subj = P.subject(text)
    if not subj:
        verb = next((v for v in _CAUSAL_VERB.finditer(text) if v.start() > 0), None)
        subj = text[:verb.start()] if verb and len(text[:verb.start()].split()) <= 5 else ""
    words = subj.lower().split()
    return words[-1].strip(",;") if words else ""


def _imperative(text: str) -> bool:
    word = text.split(" ", 1)[0].lower().strip(",.:")
    return word in P.VERB_FORMS and not word.endswith(("s", "ed", "ing")) or word in {"set", "put", "let", "find"}


def link(prev: Sentence, cur: Sentence) -> int:
    """2: an explicit inferential link; 1: a causal continuation in one paragraph; 0: none."""
    if prev.heading != cur.heading:
        return 0
    a, b = _opening(prev.text), _opening(cur.text)
    pn, cn = _NUMBERED.match(prev.text), _NUMBERED.match(cur.text)
    if pn and cn and int(cn.group(1)) == int(pn.group(1)) + 1 and _imperative(a) and _imperative(b):
        return 2  # the next step of a numbered procedure
    same_block = prev.block == cur.block or prev.text.rstrip().endswith(":")
    if _STRONG.match(b) or _IN_TURN.search(b[:40]):
        return 2 if same_block or cur.block - prev.block <= 2 else 0
    if not same_block or _NOT_A_LINK.match(b) or _EXPLETIVE.match(b) or _DEFINITION.match(a) \
            or not _CAUSAL_VERB.search(b) or not _main_verb_causal(b):
        return 0  # a definition and a fact about the same thing are two facts, not an inference
    if _ANAPHOR.match(b):
        return 1
    head = _subject_head(b)
    if len(head) > 3 and head not in P.GENERIC:
        subj_a = P.subject(a).lower()
        rest = a.lower().replace(subj_a, " ", 1) if subj_a else a.lower()
        if re.search(rf"\b{re.escape(head[:-1] if head.endswith('s') else head)}", rest):
            return 1
    return 0


_HYPOTHETICAL = re.compile(r"\bmight\b|\bcould\s+be\s+that\b|\b(?:argu|claim|believ|suppos|imagin)\w*\b", re.IGNORECASE)
_NOT_A_CLAUSE = re.compile(r"^(?:such\s+as|including|like|for\s+example|e\.g\.|i\.e\.|as\s+well\s+as|than|of|in|on|at|to|"
                           r"from|with|for|by|or|and(?!\s+then))\b", re.IGNORECASE)


def clause_steps(s: Sentence) -> list[Step]:
    """Cause and effect clauses of one sentence with an internal causal link (cause first), or [].
    A hypothetical or reported sentence ("X might argue that Y because Z") states no reasoning."""
    body = s.text.rstrip(" .!;:")
    if _HYPOTHETICAL.search(body):
        return []
    for pattern, cause, effect in _CLAUSES:
        m = pattern.match(body)
        if not m:
            continue
        parts = [(m.start(cause), m.end(cause)), (m.start(effect), m.end(effect))]
        if parts[1][0] > parts[0][0]:  # "X, causing Y, leading to Z": one more effect
            extra = _MORE_EFFECTS.search(body, parts[1][0])
            if extra and extra.end() < len(body) - 8:
                parts = [parts[0], (parts[1][0], extra.start()), (extra.end(), parts[1][1])]
        if any(_NOT_A_CLAUSE.match(body[a:b].strip(" ,;")) for a, b in parts[1:]):
            return []  # "When you measure with a tool, such as a cup, ...": the comma was no clause break
        cause_words = body[parts[0][0]:parts[0][1]].split()
        if cause_words and cause_words[0].lower() in _SUBORDINATORS and len(cause_words) < 4:
            return []  # "If done correctly, ...": no proposition to start from
        effect_first = body[parts[-1][0]:parts[-1][1]].split()[0].lower()
        if effect_first in P.VERB_FORMS and not effect_first.endswith(("s", "ed", "ing")) and parts[-1][0] > parts[0][0] \
                and not re.match(r"\s*,?\s*(?:and\s+)?then", body[parts[0][1]:parts[-1][0]]):
            return []  # "If you doubt this, ask yourself ...": advice, not a consequence
        steps = []
        for a, b in parts:
            text = body[a:b].strip(" ,;")
            opener = _STEP_OPENER.match(text)
            if opener and len(text.split()) > 4:
                text = text[opener.end():]  # "so that the waves ...": the link word is no part of the step
            a = a + body[a:b].find(text)
            if len(text.split()) < 3:
                return []
            steps.append(Step(text, s.start + a, s.start + a + len(text)))
        return steps
    return []


def _cut(indices: list[int], strengths: Sequence[int], hi: int) -> list[list[int]]:
    """A run longer than ``hi`` cut at its weakest links (the later one on ties)."""
    if len(indices) <= hi:
        return [indices]
    inner = range(1, len(indices))
    at = min(inner, key=lambda k: (strengths[indices[k]], abs(2 * k - len(indices)), k))
    return _cut(indices[:at], strengths, hi) + _cut(indices[at:], strengths, hi)


def chains(units: Sequence[Sentence], lo: int, hi: int) -> list[Run]:
    """Every chain of the units (prose sentences in text order), in text order."""
    n = len(units)
    strengths = [0] + [link(units[k - 1], units[k]) for k in range(1, n)]
    runs: list[list[int]] = []
    current = [0] if n else []
    for k in range(1, n):
        if strengths[k]:
            current.append(k)
        else:
            runs.append(current)
            current = [k]
    if current:
        runs.append(current)
    out: list[Run] = []
    taken: set[int] = set()
    for run in runs:
        for piece in _cut(run, strengths, hi):
            pre: list[Step] = []
            if len(piece) > lo and _PREMISE.match(units[piece[0]].text):
                pre.append(_whole(units[piece[0]]))
                piece = piece[1:]
            if len(piece) >= max(2, lo):
                before = piece[0] - 1
                if not pre and before >= 0 and before not in taken and strengths[piece[0]] == 0 \
                        and units[before].heading == units[piece[0]].heading and _PREMISE.match(units[before].text):
                    pre.append(_whole(units[before]))
                out.append(Run(piece, [_whole(units[k]) for k in piece], pre))
                taken.update(piece)
    for k, unit in enumerate(units):
        if k in taken:
            continue
        steps = clause_steps(unit)
        if len(steps) >= max(2, lo):
            pre = []
            if k > 0 and k - 1 not in taken and units[k - 1].heading == unit.heading \
                    and _PREMISE.match(units[k - 1].text):
                pre.append(_whole(units[k - 1]))
            out.append(Run([k], steps[:hi], pre))
            taken.add(k)
    out.sort(key=lambda r: r.units[0])
    return out


def _whole(s: Sentence) -> Step:
    return Step(s.text, s.start, s.end)
