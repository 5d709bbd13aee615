"""L3 reasoning chains from discourse: which sentences (or clauses) follow from the one before.

A chain is a run of steps joined by inferential links (``nodes.CHAIN``). Between two consecutive prose
sentences of one section the link is

- *strong* when the second opens with a consequence, sequence or explanation connective
  ("Therefore", "As a result", "In this case", "Then", "This is because"), or the two are consecutive
  items of a numbered procedure ("1. …", "2. …"). "Next", "Finally", "Later", "Eventually" link only a
  procedure step ("Next, calculate ...") or go on with a chain already running: after a list of points
  they mark the next point, not a consequence ("Finally, clients can practice ...");
- *medium* when, in the same paragraph, the second takes up what the first said — its subject is an
  anaphor ("This", "These changes", "It") or a noun phrase from the first sentence's predicate (not one
  item of a list there) — and its main verb is causal ("leads to", "reduces", "allows", …), active and
  stated ("They were produced in ...", "Such a device would allow ..." and "make few demands" are no
  cause), and it adds no "also" fact;
- absent otherwise: shared words, "For example", "However", "In addition", a definition after a
  definition, or a sentence that gives a name or a notation ("This is called ...", "Then p_A is ...")
  join nothing; "Then you might ..." strings possibilities, not consequences.

No link reaches back over a sentence left out of the units (an equation, a label such as "Solution"):
a "Thus" after a computation concludes from it, not from the prose before it (numbered procedure
steps, and the prose after a lead-in ending in ":", still link).

Maximal linked runs become chains (cut at ``max_steps``). A sentence outside every run whose clauses
are linked inside it ("X, so Y", "Y because X", "If X, then Y", "X, resulting in Y") becomes a chain of
its clauses, cause first — not when the effect names something ("..., we refer to it as X"), compares
("just as X, so Y"), draws a profile ("rises ... and then falls"), is a background state ("When X came,
Y had already ..."), what to do in a situation ("When a clinician leads a group, the focus is on ...",
"it is important to ..."), a guess ("perhaps ...") or has no verb ("and thus some insight into ..."); commas
in brackets, quotations and numbers, and those of a list inside the leading clause, cut no clause.
Preconditions are premises stated just before the chain ("Suppose …", "Consider …", "Let X be …"), a
chain's own opening premise, or the case that a following "In this case" takes up ("For example, if
the smallest value were one, ..."); never a step.

Pure functions over ``segment.Sentence`` lists; offsets stay those of the segmented text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
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
                     r"|ultimately|in\s+the\s+process"
                     r"|then\b|after\s+(?:this|that|these)"
                     r"|once\s+(?:this|that|these)|at\s+this\s+(?:point|stage)|when\s+this\s+happens"
                     r"|(?:this|that|it)\s+(?:is|was|happens|occurs)\s+because"
                     r"|after\s+(?:a|an|several|some|many|two|three|a\s+few)\s+(?:\w+\s+)?(?:seconds|minutes|hours|days"
                     r"|weeks|months|years|decades|centuries)"
                     r"|(?:this|these|that|those|such)(?:\s+[\w-]+){0,2}\s+(?:suggests?|suggested|indicates?|indicated|shows?"
                     r"|showed|demonstrates?|demonstrated|implies|implied|confirms?|confirmed|proves?|proved)\b"
                     r"|(?:[\w’'-]+\s+){1,3}(?:then|therefore|thus|consequently|concluded|inferred|reasoned)\b)",
                     re.IGNORECASE)
# "Next", "Finally", "Later": the next item of a list as often as the next step (counted in the
# corpus: "Finally, clients can practice ..." closes a list of points); a link only for a procedure step
_SEQUENCE = re.compile(_OPEN + r"(?:next|finally|lastly|afterwards?|subsequently|later|eventually)\b", re.IGNORECASE)
_TEMPORAL = re.compile(_OPEN + r"(?:then|after|eventually|(?:[\w’'-]+\s+){1,3}then)\b", re.IGNORECASE)
# a step that gives a name or a notation states no consequence ("If the rate is in decays per second, we
# refer to it as the activity"; "Once in the thymus, the cells are called thymocytes"; "Let X be ...")
_NAMING = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+|then\s+|now\s+|also\s+|often\s+)?"
                     r"(?:called|termed|named|known\s+as|referred\s+to\s+as|defined\s+as|denoted)\b"
                     r"|\b(?:we|you|one|they|scientists|\w+ists)\s+(?:can\s+|may\s+|will\s+|\w+ly\s+)?"
                     r"(?:call|term|name|define|denote|refer\s+to\s+(?:it|this|them|these|those|such\s+\w+)\s+as)\b"
                     r"|\b(?:to|will)\s+(?:denote|stand\s+for)\b|\bstands?\s+for\b|^let\s", re.IGNORECASE)
_CONNECTIVE = re.compile(r"^(?:\s*(?:and|but|so|thus|therefore|hence|then|consequently|as\s+a\s+result),?\s+)+",
                         re.IGNORECASE)
_ADDITIVE = re.compile(r"^(?:[\w’'-]+\s+){0,4}?(?:also|too)\b|\bas\s+well\b(?!\s+as)", re.IGNORECASE)
_CASE_LINK = re.compile(_OPEN + r"(?:in\s+(?:this|that|each|either|such\s+a)\s+case|under\s+(?:these|those|such)"
                        r"\s+conditions)", re.IGNORECASE)
# a sentence that sets up a case ("For example, if the smallest value were ...") before "In this case"
_SETUP = re.compile(r"^(?:for\s+(?:example|instance),\s+)?(?:if|suppose|imagine|assume)\b", re.IGNORECASE)
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
                      r"|given\s+(?:that|a|an|the)|let(?:['’]s|\s+us)\s+(?:say|suppose|assume|imagine|consider|pretend)"
                      r"|recall\s+that|say\s+that"
                      r"|let\s+(?!(?:us|me|them|him|her)\b)[^,.]{1,40}?\s+(?:be|denote|represent)|let\s+\w{1,3}(?=\s*=)"
                      r"|(?:you|we)\s+(?:might|may|could)\s+have)\b", re.IGNORECASE)

# Clause links inside one sentence: (pattern, cause group, effect group). Tried in order.
_LEAD = (r"(?:(?:(?:for|in|at|on|to|from|with|under|during|after|before|according\s+to)\s+[^,]{1,30}"
         r"|\w+ly|however|thus|therefore|then|similarly|also|so|in\s+turn),\s+)?")
_CLAUSES = [
    (re.compile(r"^" + _LEAD + r"because\s+(?P<c>[^,]{12,}?),\s*(?P<e>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^" + _LEAD + r"(?P<c>(?:if|whenever|once|since|when)\s+(?!\w+(?:ing|ed)\b)[^,]{12,}?)(?:,\s*(?:then\s+)?"
                r"|(?<!could)(?<!would)(?<!might)(?<!must)(?<!should)(?<!\bcan)(?<!will)(?<!\bmay)\s+then\s+)(?P<e>.+)$",
                re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^" + _LEAD + r"(?P<c>by\s+\w+ing\b[^,]{8,}?),\s*(?P<e>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?P<e>.{12,}?),?\s+because\s+(?!of\b)(?P<c>.{12,})$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?P<c>.{12,}?)(?:[,;]\s*(?:and\s+)?(?:so(?!\s+(?:far|much|many|long|called|too)\b)|thus|therefore"
                r"|hence|consequently|as\s+a\s+result)\b,?"
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
_STEP_OPENER = re.compile(r"^(?:that|and|then|so(?!\s+(?:far|much|many|long|called|too)\b))\s+", re.IGNORECASE)


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
            if _causal_verb_at(rest[_AFTER_SUBJECT.match(rest).end():]):
                return True
        return False
    subj = P.subject(text)
    at = text.find(subj) if subj else -1
    if at < 0:
        lead = re.match(r"^(?:[\w’'-]+\s+){1,4}?(?=" + _CAUSAL_VERB.pattern[2:-2] + r")", text, re.IGNORECASE)
        return bool(lead)  # "Lower current reduces ...": an adjective the subject finder took for a verb
    rest = text[at + len(subj):]
    rest = rest[_AFTER_SUBJECT.match(rest).end():]
    return _causal_verb_at(rest)


_MODAL_CAUSE = re.compile(r"\b(?:would|could|might)\s+(?:\w+ly\s+)?(?=" + _CAUSAL_VERB.pattern[2:-2] + r"\b)",
                          re.IGNORECASE)
_PASSIVE_CAUSE = re.compile(r"\b(?:is|are|was|were|been|being)\s+(?:\w+ly\s+)?(?:produced|created|released|made|raised"
                            r"|lowered|reduced|increased|decreased|caused|triggered|driven|activated|stimulated|inhibited"
                            r"|forced|allowed|enabled|prevented)\b(?!\s+by\b)", re.IGNORECASE)
_AUX_NEXT = re.compile(r"\s+(?:is|are|was|were|have|has|had|can|could|will|would|may|might|must|should|do|does"
                       r"|did|of)\b", re.IGNORECASE)


def _causal_verb_at(rest: str) -> bool:
    """Whether ``rest`` opens with a causal verb; not with a noun that looks like one ("forces are")."""
    m = _CAUSAL_VERB.match(rest)
    return bool(m) and not _AUX_NEXT.match(rest, m.end())


def _subject_head(text: str) -> str:
    subj = P.subject(text)
    if not subj:
        verb = next((v for v in _CAUSAL_VERB.finditer(text) if v.start() > 0), None)
        subj = text[:verb.start()] if verb and len(text[:verb.start()].split()) <= 5 else ""
    words = subj.lower().split()
    return words[-1].strip(",;") if words else ""


def _names(text: str) -> bool:
    """Whether a sentence or clause gives a name or a notation as its main predicate ("the condition is
    called X", "we refer to it as X"); not "... giving rise to the lifeforms we call plants"."""
    text = _CONNECTIVE.sub("", text, count=1)
    m = _NAMING.search(text)
    before = text[:m.start()] if m else ""
    return bool(m) and not _has_verb(before) and not re.search(r"\b(?:how|what|why|whether)\b", before, re.IGNORECASE)


def _procedure_step(text: str) -> bool:
    """Whether a sentence (after its connective) is a step someone takes: an imperative or "we/you ..."."""
    text = text.lstrip(" ,")
    words = text.split(" ", 2)
    if len(words) > 1 and words[1].lower() in P.DETERMINERS and words[0].isalpha() \
            and words[0].lower() not in P.STOP and not words[0].lower().endswith(("ly", "ing", "ed", "s")):
        return True  # "Calculate the variance ...": a word that takes an object at once is a verb
    return _imperative(text) or bool(re.match(r"(?:we|you|one)\s+(?:\w+ly\s+)?(?!are\b|is\b|have\b|can\s+see\b)\w+",
                                              text, re.IGNORECASE))


def _imperative(text: str) -> bool:
    word = text.split(" ", 1)[0].lower().strip(",.:")
    return word in P.VERB_FORMS and not word.endswith(("s", "ed", "ing")) or word in {"set", "put", "let", "find"}


def _next_numbered(prev: Sentence, cur: Sentence) -> bool:
    pn, cn = _NUMBERED.match(prev.text), _NUMBERED.match(cur.text)
    return bool(pn and cn and int(cn.group(1)) == int(pn.group(1)) + 1
                and _imperative(_opening(prev.text)) and _imperative(_opening(cur.text)))


def link(prev: Sentence, cur: Sentence, running: bool = False) -> int:
    """2: an explicit inferential link; 1: a causal continuation in one paragraph; 0: none. ``running``:
    ``prev`` is itself linked to the sentence before it, so "Next"/"Finally" go on with a chain."""
    if prev.heading != cur.heading:
        return 0
    a, b = _opening(prev.text), _opening(cur.text)
    if _next_numbered(prev, cur):
        return 2  # the next step of a numbered procedure
    same_block = prev.block == cur.block or prev.text.rstrip().endswith(":")
    if _names(b):
        return 0  # a name or a notation is given, not inferred
    sequence = _SEQUENCE.match(b)
    if sequence and (running or _procedure_step(b[sequence.end():])):
        return 2 if same_block else 0  # "Next, calculate the variance": the next step of a procedure
    if _STRONG.match(b) or _IN_TURN.search(b[:40]):
        if _TEMPORAL.match(b) and re.search(r"\bmight\b", b):
            return 0  # "Then you might ...": one possibility after another, not a consequence
        return 2 if same_block or cur.block - prev.block <= 2 else 0
    if sequence or not same_block or _NOT_A_LINK.match(b) or _EXPLETIVE.match(b) or _DEFINITION.match(a) \
            or _ADDITIVE.search(b) or not _CAUSAL_VERB.search(b) or not _main_verb_causal(b):
        return 0  # a definition and a fact about the same thing (or one more fact) are no inference
    clause = _mask(b).split(",")[0] if not _ANAPHOR.match(b) else b
    propositional = re.match(r"(?:this|that)\s", b, re.IGNORECASE)  # "This would result in ...": a consequence
    if (_MODAL_CAUSE.search(clause) and not propositional) or _PASSIVE_CAUSE.search(clause):
        return 0  # "Such a device would allow ...", "They were produced in ...": a capability or an origin
    if _ANAPHOR.match(b):
        return 1
    head = _subject_head(b)
    if len(head) > 3 and head not in P.GENERIC:
        if all(_LIGHT_MAKE.match(b, m.start()) for m in _CAUSAL_VERB.finditer(b)):
            return 0  # "Permissive parents make few demands": "make" with its noun is no cause
        subj_a = P.subject(a).lower()
        rest = a.lower().replace(subj_a, " ", 1) if subj_a else a.lower()
        found = re.search(rf"\b{re.escape(head[:-1] if head.endswith('s') else head)}", rest)
        if found and not _in_list(rest, found.start(), found.end()):
            return 1
    return 0


_LIGHT_MAKE = re.compile(r"(?:make|makes|made)\s+(?:a|an|few|many|no|more|less|several|some|its|their|his|her)\b",
                         re.IGNORECASE)


def _in_list(text: str, start: int, end: int) -> bool:
    """Whether the words at ``start:end`` are one item of a list ("coronal holes, solar flares, and
    CMEs"): a sentence that then says more about one item elaborates, it does not follow."""
    masked = _mask(text)
    word_end = re.match(r"[\w’'-]*", masked[end:]).end() + end
    edge = masked[word_end:word_end + 2].lstrip()[:1] in (",", "—") or masked[max(0, start - 2):start].strip() in (",", "—")
    window = masked[max(0, start - 60):word_end + 60]
    return edge and bool(re.search(r",\s+(?:and|or)\s|—", window))


_HYPOTHETICAL = re.compile(r"\bmight\b|\bcould\s+be\s+that\b|\b(?:argu|claim|believ|suppos|imagin)\w*\b", re.IGNORECASE)
_NOT_A_CLAUSE = re.compile(r"^(?:such\s+as|including|like|for\s+example|e\.g\.|i\.e\.|as\s+well\s+as|than|of|in|on|at|to|"
                           r"from|with|for|by|or|and(?!\s+then))\b", re.IGNORECASE)


def clause_steps(s: Sentence) -> list[Step]:
    """Cause and effect clauses of one sentence with an internal causal link (cause first), or [].
    A hypothetical or reported sentence ("X might argue that Y because Z") states no reasoning."""
    body = s.text.rstrip(" .!;:")
    if _HYPOTHETICAL.search(body):
        return []
    masked = _mask(body)  # commas inside brackets and numbers break no clause
    for index, (pattern, cause, effect) in enumerate(_CLAUSES):
        m = pattern.match(masked)
        if not m:
            continue
        parts = [(m.start(cause), m.end(cause)), (m.start(effect), m.end(effect))]
        if index in (0, _WHEN_INDEX):
            parts = _past_list_commas(masked, parts)  # "Because of their ability to penetrate paper, plastic, ..."
        if parts[1][0] > parts[0][0]:  # "X, causing Y, leading to Z": one more effect
            extra = _MORE_EFFECTS.search(masked, parts[1][0])
            if extra and extra.end() < len(body) - 8:
                parts = [parts[0], (parts[1][0], extra.start()), (extra.end(), parts[1][1])]
        if any(_NOT_A_CLAUSE.match(body[a:b].strip(" ,;")) for a, b in parts[1:]):
            return []  # "When you measure with a tool, such as a cup, ...": the comma was no clause break
        if not _consequence(body[parts[0][0]:parts[0][1]], body[parts[-1][0]:parts[-1][1]], index):
            return []
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


def _past_list_commas(masked: str, parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A leading clause cut at a list comma goes on to the comma after which a clause (with a verb) starts."""
    (c0, c1), (e0, e1) = parts
    start = e0
    while True:
        comma = masked.find(",", e0, e1)
        if comma < 0 or _has_verb(masked[e0:comma], strict=True):
            break
        e0 = comma + 1
        while e0 < e1 and masked[e0] == " ":
            e0 += 1
    if e0 == start or not re.search(r"(?:^|,\s*)(?:and|or)\s", masked[start:e0]):
        return parts  # no list ends there ("Once inside, the astronaut, along with ..., will remain")
    return [(c0, masked.rfind(",", start, e0)), (e0, e1)]


_BRACKETED = re.compile(r"(?<=.)(?:\([^()]*\)|\[[^\[\]]*\]|“[^“”]*”)|(?<=\d),(?=\d{3}\b)", re.DOTALL)


def _mask(text: str) -> str:
    """``text`` with the commas of bracketed asides, quotations and numbers ("100,000") blanked (offsets kept)."""
    return _BRACKETED.sub(lambda m: m.group().replace(",", " "), text)


_RISE = r"(?:rise|rises|rose|risen|increase|increases|increased|grow|grows|grew|climb|climbs|climbed|expand|expands|expanded)"
_FALL = r"(?:fall|falls|fell|fallen|decrease|decreases|decreased|decline|declines|declined|drop|drops|dropped|shrink"
_FALL += r"|shrinks|shrank|contract|contracts|contracted)"
_PROFILE = re.compile(rf"\b{_RISE}\b.*?\bthen\s+(?:\w+\s+){{0,2}}?{_FALL}\b|\b{_FALL}\b.*?\bthen\s+(?:\w+\s+){{0,2}}?{_RISE}\b",
                      re.IGNORECASE | re.DOTALL)
_SO_INDEX, _THEN_INDEX, _WHEN_INDEX = 4, 6, 1  # positions in _CLAUSES
# what one should do or attend to in a situation, not what the situation brings about
_EVALUATIVE = re.compile(r"\s*(?:it\s+is\s+(?:\w+ly\s+)?(?:important|necessary|essential|useful|helpful|wise|best"
                         r"|critical|crucial|advisable|recommended)\b|the\s+(?:focus|goal|aim|emphasis|purpose)\s+is\b"
                         r"|(?:you|we|one)\s+(?:should|must|need\s+to|have\s+to)\s+(?:always\s+)?(?:consider|remember"
                         r"|keep|be\s+careful|make\s+sure|check|note))", re.IGNORECASE)


def _consequence(cause: str, effect: str, index: int) -> bool:
    """Whether the effect clause states what follows from the cause clause; not a name given in a
    case ("... we refer to it as the activity"), a comparison ("just as X, so Y"), a profile over time
    ("rises to a maximum and then falls"), a step of an example phrase ("such as a car accelerating
    and then braking"), a background state ("When X came, the country had already ..."), a guess
    ("perhaps you have heard"), or a clause without a verb ("and thus some insight into ...")."""
    if _names(effect) or re.search(r"\bjust\s+as\b", cause, re.IGNORECASE):
        return False
    if re.match(r"\s*(?:perhaps|maybe)\b", effect, re.IGNORECASE):
        return False
    if index == _THEN_INDEX and (_PROFILE.search(cause + " then " + effect.split("then", 1)[-1])
                                 or re.search(r"\b(?:such\s+as|like|e\.g\.)\s[^,;]*$", cause, re.IGNORECASE)):
        return False
    if index == _WHEN_INDEX and re.search(r"\bhad\s+(?:already|long)\b", effect, re.IGNORECASE):
        return False
    if index == _WHEN_INDEX and _EVALUATIVE.match(effect):
        return False  # "When a clinician leads a group, the focus is on ...": a norm in a situation
    if index == _SO_INDEX and not _has_verb(_mask(effect).split(",", 1)[0]) \
            and not re.match(r"\s*the\s+(?:more|less|fewer|\w+er)\b", effect, re.IGNORECASE):
        return False  # "The presence of oxygen, and hence ozone, thus allowed ...": "hence" joins two nouns
    return True


def _has_verb(text: str, strict: bool = False) -> bool:
    """Whether a clause has something verb-like: an auxiliary, a known verb form, a participle, a word
    after a personal pronoun, or an -s word inside the clause ("knowledge implies truth"); "some
    insight into modern American values" has none."""
    text = re.sub(r"[“\"][^”\"]*[”\"]", " ", text)  # a quoted phrase ("eating for two") is a name here
    lows = [t.low for t in P.tokens(text) if t.word]
    for k, low in enumerate(lows):
        prev = lows[k - 1] if k else None
        if low in P.AUX or low in P.VERB_FORMS or prev in P.PERSONAL_PRONOUNS:
            return True
        if low.endswith(("ed", "ing")) and len(low) > 4 and prev not in P.DETERMINERS:
            return True
        if not strict and low.endswith("s") and 0 < k < len(lows) - 1 and prev not in P.DETERMINERS \
                and prev not in P.PREPOSITIONS:
            return True
    return False


def _cut(indices: list[int], strengths: Sequence[int], hi: int) -> list[list[int]]:
    """A run longer than ``hi`` cut at its weakest links (the later one on ties)."""
    if len(indices) <= hi:
        return [indices]
    inner = range(1, len(indices))
    at = min(inner, key=lambda k: (strengths[indices[k]], abs(2 * k - len(indices)), k))
    return _cut(indices[:at], strengths, hi) + _cut(indices[at:], strengths, hi)


def chains(units: Sequence[Sentence], lo: int, hi: int, after_gap: Collection[int] = ()) -> list[Run]:
    """Every chain of the units (prose sentences in text order), in text order. ``after_gap``: indices
    of units that follow a left-out sentence (an equation, a label): their "Thus" takes up that one,
    not the unit before, so no link reaches back over the gap."""
    n = len(units)
    strengths = [0] * n
    for k in range(1, n):
        if k not in after_gap:
            strengths[k] = link(units[k - 1], units[k], running=strengths[k - 1] > 0)
        elif _next_numbered(units[k - 1], units[k]) and units[k - 1].heading == units[k].heading:
            strengths[k] = 2  # "1. Convert quarts to liters." [its arithmetic] "2. Convert liters to ..."
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
    premises: set[int] = set()
    for run in runs:
        for piece in _cut(run, strengths, hi):
            pre: list[Step] = []
            if len(piece) > 1 and _premise(units, piece):
                pre.append(_whole(units[piece[0]]))
                premises.add(piece[0])  # a premise is never a step, not even of its own clauses
                piece = piece[1:]
            if len(piece) >= max(2, lo):
                before = piece[0] - 1
                if not pre and before >= 0 and before not in taken and strengths[piece[0]] == 0 \
                        and units[before].heading == units[piece[0]].heading and _PREMISE.match(units[before].text):
                    pre.append(_whole(units[before]))
                out.append(Run(piece, [_whole(units[k]) for k in piece], pre))
                taken.update(piece)
    for k, unit in enumerate(units):
        if k in taken or k in premises:
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


def _premise(units: Sequence[Sentence], piece: list[int]) -> bool:
    """Whether a run opens with a premise rather than a step: a supposition ("Suppose ...", "Let X be ..."),
    or the case that "In this case" then takes up ("For example, if the smallest value were one, ...")."""
    first = _opening(units[piece[0]].text)
    if _PREMISE.match(first):
        return True
    if len(piece) < 2 or not _SETUP.match(first) or not _CASE_LINK.match(_opening(units[piece[1]].text)):
        return False
    # "If X were one, ..." supposes (a premise); "If X is ..., then Y" already infers: a step
    supposed, rest = (re.sub(r"^for\s+(?:example|instance),\s+", "", first, flags=re.IGNORECASE).split(",", 1) + [""])[:2]
    return bool(re.search(r"\b(?:were|had\s+been)\b", supposed, re.IGNORECASE)) or not re.search(
        r"\b(?:then|would|will|must|could|can|so|thus|therefore)\b", rest, re.IGNORECASE)


def _whole(s: Sentence) -> Step:
    return Step(s.text, s.start, s.end)
