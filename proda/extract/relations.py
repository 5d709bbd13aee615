"""Typed (subject, relation, object) triples from sentences, by verb-phrase patterns.

Every pattern maps a verb phrase to one of ``records.RELATIONS``; passive or converse phrasings
("is caused by", "results from", "increases with") are marked ``reverse`` and swapped. The subject is
the noun phrase that ends right before the verb (its own clause only; a relative pronoun points back to
its antecedent, an "it"/"this process" to the previous step's subject), the object the noun phrase
that starts right after it. A negated verb ("does not cause") asserts nothing and is skipped.
Discourse links ("X. Therefore, Y", "X because Y", "X, so Y") give ``causes`` between the subjects of
the two clauses. ``related_to`` is never produced here: it is the caller's fallback.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from . import phrases as P

_BE = r"(?:is|are|was|were|has\s+been|have\s+been)"
_BY = rf"{_BE}\s+(?:\w+ly\s+)?"

_IS_THE = rf"{_BE}\s+the\s+(?=(?:[\w-]+\s+){{0,3}}?(?:of|by\s+which|in\s+which|through\s+which|that|whereby)\s)"

# (verb phrase, relation, reverse). Order matters where two phrases start at the same word.
_PATTERNS: list[tuple[str, str, bool]] = [
    # --- passive / converse first: they begin with "is"/"are", like the copula patterns below
    (rf"{_BY}(?:caused|triggered|induced|brought\s+about|driven)\s+by", "causes", True),
    (rf"{_BE}\s+(?:due|attributable)\s+to|{_BE}\s+(?:the|a)\s+(?:direct\s+)?results?\s+of"
     r"|(?:results?|resulted|stems?|stemmed|arises?|arose|derives?|derived)\s+from", "causes", True),
    (rf"{_BY}(?:increased|raised|enhanced|boosted|stimulated|promoted|amplified)\s+by", "increases", True),
    (r"(?:increases?|increased|rises?|rose|grows?|grew)\s+with", "increases", True),
    (rf"{_BY}(?:reduced|decreased|lowered|limited|inhibited|suppressed|weakened|diminished)\s+by",
     "decreases", True),
    (r"(?:decreases?|decreased|falls?|fell|drops?|dropped|declines?|declined)\s+with", "decreases", True),
    (rf"{_BY}(?:produced|released|formed|generated|created|emitted|synthesi[sz]ed|secreted|made)\s+by",
     "produces", True),
    (rf"{_BY}(?:enabled|facilitated|made\s+possible|allowed)\s+by", "enables", True),
    (rf"{_BY}(?:prevented|blocked|stopped|hindered|impeded)\s+by", "prevents", True),
    (r"compos(?:e|es|ed)|make\s+up|makes\s+up|made\s+up(?!\s+of)", "consists_of", True),
    (rf"{_BE}\s+(?:necessary|needed|required|essential|crucial|vital|critical|a\s+prerequisite)\s+for",
     "requires", True),
    (rf"{_BE}\s+preceded\s+by|follows|followed(?!\s+by)|(?:comes?|came|occurs?|occurred|happens?|happened"
     r"|takes?\s+place|took\s+place)\s+after", "precedes", True),
    (rf"{_BE}\s+(?:called|known\s+as|termed|referred\s+to\s+as|named)", "defined_as", True),
    (rf"{_BE}\s+(?:defined|described)\s+as|refers?\s+to|referred\s+to", "defined_as", False),
    # --- copula patterns
    (rf"{_BE}\s+(?:an?\s+|the\s+|one\s+)?(?:integral\s+|major\s+|key\s+|important\s+|essential\s+|central\s+)?"
     r"(?:part|parts|component|components|constituent|constituents|section|portion|subunit|region|members?)\s+of"
     r"|(?:forms?|formed)\s+(?:an?\s+)?(?:integral\s+)?part\s+of|belongs?\s+to|belonged\s+to"
     rf"|{_BE}\s+(?:contained|located)\s+(?:with)?in", "part_of", False),
    (rf"{_BE}\s+(?:an?\s+|one\s+)?(?:specific\s+|special\s+|particular\s+|common\s+)?(?:type|kind|form|class"
     r"|category|example|variety|subset|subtype|instance|sort|branch)s?\s+of", "is_a", False),
    (rf"{_BE}\s+(?:composed|made(?:\s+up)?|comprised)\s+of|consists?\s+of|consisted\s+of|comprises?|comprised"
     r"|contains?|contained|includes|included", "consists_of", False),
    (_IS_THE, "defined_as", False),
    (rf"{_BE}\s+(?:an?)\s+(?!(?:lot|number|few|little|bit|great\s+deal|way|result|means|measure|function)\b)",
     "is_a", False),
    (r"(?:are|were)\s+(?=(?:[a-z-]+\s+){0,2}[a-z-]+s\s+(?:that|which|who|whose)\b)", "is_a", False),
    # --- active verbs
    (r"causes?|caused|leads?\s+to|led\s+to|results?\s+in|resulted\s+in|gives?\s+rise\s+to|gave\s+rise\s+to"
     r"|triggers?|triggered|brings?\s+about|brought\s+about|induces?|induced|contributes?\s+to|contributed\s+to"
     rf"|{_BE}\s+responsible\s+for|drives|drove|affects?|affected|influences?|influenced|determines?"
     r"|determined|shapes|shaped", "causes", False),
    (r"requires?|required|needs|uses?|utili[sz]es|consumes|depends?\s+on|depended\s+on|relies\s+on|rely\s+on|relied\s+on"
     rf"|{_BE}\s+dependent\s+(?:up)?on", "requires", False),
    (r"increases?|increased|raises?|raised|boosts?|boosted|enhances?|enhanced|amplif(?:y|ies|ied)"
     r"|strengthens?|strengthened|elevates?|stimulates?|stimulated|promotes?|promoted|intensif(?:y|ies|ied)"
     r"|speeds?\s+up|sped\s+up", "increases", False),
    (r"decreases?|decreased|reduces?|reduced|lowers?|lowered|diminish(?:es|ed)?|weakens?|weakened"
     r"|slows?(?:\s+down)?|slowed(?:\s+down)?|inhibits?|inhibited|suppress(?:es|ed)?|lessens?|depletes?"
     r"|depleted|limits|curbs?|curbed", "decreases", False),
    (r"enables?|enabled|allows?|allowed|permits?|permitted|facilitates?|facilitated"
     r"|makes?\s+(?:it\s+)?possible|made\s+(?:it\s+)?possible|helps|helped", "enables", False),
    (r"prevents?|prevented|blocks?|blocked|stops|stopped|hinders?|hindered|impedes?|impeded"
     r"|protects?\s+against|counteracts?", "prevents", False),
    (rf"precedes?|preceded(?!\s+by)|{_BE}\s+followed\s+by|(?:comes?|came|occurs?|occurred|happens?|happened"
     r"|takes?\s+place|took\s+place|begins?|began)\s+before|paved\s+the\s+way\s+for", "precedes", False),
    (r"produces?|produced|releases?|released|forms|formed|generates?|generated|creates?|created|yields?"
     r"|yielded|emits?|emitted|gives?\s+off|gave\s+off|secretes?|secreted|synthesi[sz]es?", "produces", False),
]
_VERBS = re.compile(r"(?<![\w-])(?:" + "|".join(f"(?P<p{i}>{p})" for i, (p, _, _) in enumerate(_PATTERNS))
                    + r")(?:(?<=\s)|(?![\w-]))", re.IGNORECASE)
# Only words that can open a pattern are tried (the alternation is slow to try at every word).
_TRIGGERS = frozenset(w[:4] for src, _, _ in _PATTERNS
                      for w in re.findall(r"(?:^|\||\(\?:)([a-z]+)", src.replace(_BE, "(?:is|are|was|were|has|have)")))
_WORD_START = re.compile(r"(?<![\w-])[A-Za-z]+")
_LAST_WORD = re.compile(r"(\w+)\W*$")
_PERFECT = frozenset("has have had is are was were be been being".split())
_DEFINING = re.compile(r"\s*(?:that|which|who|whose|in\s+which|where|used|consisting|characterized|"
                       r"composed|made)\b", re.IGNORECASE)
_DEF_END = re.compile(r"[,;:.()!?]|\s[—–]\s")


class Triple(NamedTuple):
    subject: str
    relation: str
    object: str


_ADJECTIVES = frozenset("""constant zero equal less more greater larger smaller higher lower positive negative
    true false possible impossible important necessary different same similar simple large small high low
    useful able likely unlikely clear common rare available present absent responsible due free full
    new old good bad easy difficult hard strong weak fast slow deeper longer shorter larger smaller greater
    higher lower faster slower stronger weaker better worse brief particular general addition fact
    contrast turn short total practice one two three four five six seven eight nine ten""".split())
_ADJ_SUFFIX = ("ful", "ous", "less", "able", "ible")
_MATH = set("=<>+*/^|\\{}")


def usable(np: str) -> bool:
    """Whether a phrase can name a concept: a real word, not a pronoun, a generic or a bare adjective."""
    low = np.lower()
    if not np or low in P.GENERIC or low in P.STOP or any(c in _MATH for c in np):
        return False
    if low.split()[0] in _ADJECTIVES and len(low.split()) == 2 and low.split()[1] in _ADJECTIVES:
        return False  # "nine preside", "six or"
    if not any(sum(c.isalpha() for c in w) >= 3 or (w.isupper() and len(w) >= 2) for w in np.split()):
        return False
    return " " in low or (low not in _ADJECTIVES and not low.endswith(_ADJ_SUFFIX))


def split_coordination(np: str) -> list[str]:
    """"heat and pressure" -> ["heat", "pressure"]; a phrase with no short parts stays whole."""
    parts = [p.strip() for p in re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", np) if p.strip()]
    if len(parts) < 2 or any(len(p.split()) > 3 or not usable(p) for p in parts):
        return [np]
    return parts


def _anaphor(left: str) -> bool:
    """Whether the clause before a verb is just "it", "this", "this process", "these changes"…"""
    toks = P.tokens(left)
    while toks and toks[-1].word and (toks[-1].low in P.AUX or P.is_adverb(toks[-1].low)):
        toks = toks[:-1]
    cut = max((i + 1 for i, t in enumerate(toks)
               if not t.word or t.low in P.CONJUNCTIONS or t.low in P.CLAUSE_WORDS - {"this", "that"}), default=0)
    toks = toks[cut:]
    words = [t.low for t in toks]
    return (len(words) == 1 and words[0] in P.PRONOUN_RESOLVABLE) or (
        len(words) == 2 and words[0] in {"this", "these", "such", "that", "those"} and words[1] in P.GENERIC)


def _definition(right: str, start: int) -> str:
    """"protein that speeds up reactions" out of the words after "is a"."""
    end = _DEF_END.search(right, start)
    toks = [t for t in P.tokens(right[start:end.start() if end else len(right)]) if t.word][:P.MAX_WORDS]
    while toks and (toks[-1].low in P.STOP or P.is_adverb(toks[-1].low)):
        toks = toks[:-1]
    return right[start + toks[0].start:start + toks[-1].end] if len(toks) >= 2 else ""


def sentence_triples(sentence: str, context: str = "") -> list[Triple]:
    """Triples stated inside one sentence. ``context`` resolves a pronoun subject ("it", "this")."""
    out: list[Triple] = []
    pos = 0
    for w in _WORD_START.finditer(sentence):
        if w.start() < pos or w.group()[:4].lower() not in _TRIGGERS:
            continue
        m = _VERBS.match(sentence, w.start())
        if m is None:
            continue
        pos = m.end()
        index = int(m.lastgroup[1:])
        _, relation, reverse = _PATTERNS[index]
        left, right = sentence[:m.start()], sentence[m.end():]
        before = _LAST_WORD.search(left)
        if before and before.group(1).lower() in _PERFECT and not re.match(r"\w+(?:ed|en|ing)\b", m.group()):
            continue  # "has lower readings": after "has"/"is" a base form is an adjective, not the verb
        subj = P.tail_subject(left)
        if subj is None:
            continue
        if not subj and context and _anaphor(left):
            subj = context
        if relation == "defined_as" and _PATTERNS[index][0] == _IS_THE:
            described = _definition(right, 0)  # "the process by which plants make sugar"
            objects = [described] if described else []
        else:
            objects = P.head_objects(right)
        if not objects or not usable(subj):
            continue
        if relation == "is_a" and re.match(r"\w{3,}(?:ed|ing)\b", objects[0]):
            continue  # "surveys were conducted asking voters who": a passive, not a class
        for s_part in split_coordination(subj):
            for o_part in objects:
                if usable(o_part) and s_part.lower() != o_part.lower():
                    out.append(Triple(o_part, relation, s_part) if reverse else Triple(s_part, relation, o_part))
        if relation == "is_a" and not reverse:
            obj = objects[0]
            at = right.find(obj)
            if at >= 0 and _DEFINING.match(right, at + len(obj)):
                described = _definition(right, at)
                if described:
                    out.append(Triple(subj, "defined_as", described))
    out.extend(_because(sentence, context))
    out.extend(_hearst(sentence))
    out.extend(_covariation(sentence, context))
    return out


_SUCH_AS = re.compile(r",?\s+(?:such\s+as|including)\s+", re.IGNORECASE)


def _hearst(sentence: str) -> list[Triple]:
    """"diseases such as smallpox and measles" -> smallpox is_a disease, measles is_a disease."""
    out: list[Triple] = []
    for m in _SUCH_AS.finditer(sentence):
        left = P.blank_brackets(sentence[:m.start()])
        general = P.antecedent(P.tokens(left), left)
        if not usable(general):
            continue
        for specific in P.head_objects(sentence[m.end():]):
            if usable(specific) and specific.lower() != general.lower():
                out.append(Triple(specific, "is_a", general))
    return out


_UP = r"(?:increases?|increased|rises?|rose|grows?|grew|goes\s+up|went\s+up|gets?\s+(?:larger|bigger|higher))"
_DOWN = r"(?:decreases?|decreased|falls?|fell|declines?|declined|drops?|dropped|goes\s+down|went\s+down|shrinks?)"
_COVARY = re.compile(rf"^(?:as|when|if|whenever)\s+(?P<x>[^,;]+?)\s+(?:\w+ly\s+)?(?P<dx>{_UP}|{_DOWN})\b[^,;]*,\s*"
                     rf"(?:then\s+)?(?P<y>[^,;]+?)\s+(?:also\s+|\w+ly\s+)?(?:will\s+)?(?P<dy>{_UP}|{_DOWN})\b",
                     re.IGNORECASE)
_MORE = r"(?:greater|higher|larger|more|bigger|faster|stronger|longer|warmer|hotter)"
_LESS = r"(?:lower|smaller|less|fewer|slower|weaker|shorter|cooler|colder)"
_THE_MORE = re.compile(rf"\bthe\s+(?P<dx>{_MORE}|{_LESS})\s+(?:the\s+)?(?P<x>[^,;]+?),\s*the\s+(?P<dy>{_MORE}|{_LESS})"
                       rf"\s+(?:the\s+)?(?P<y>[^,;.]+)", re.IGNORECASE)


def _covariation(sentence: str, context: str) -> list[Triple]:
    """"As X increases, Y decreases" and "the higher the X, the lower the Y": increases / decreases."""
    for pattern, up in ((_COVARY, re.compile(_UP, re.IGNORECASE)), (_THE_MORE, re.compile(_MORE, re.IGNORECASE))):
        m = pattern.search(sentence)
        if not m:
            continue
        x = P.clean(P.tokens(m.group("x")), m.group("x"))
        y = P.clean(P.tokens(m.group("y")), m.group("y"))
        if usable(x) and usable(y) and x.lower() != y.lower():
            same = bool(up.fullmatch(m.group("dx"))) == bool(up.fullmatch(m.group("dy")))
            return [Triple(x, "increases" if same else "decreases", y)]
    return []


_BECAUSE = re.compile(r"\bbecause\s+(of\s+)?", re.IGNORECASE)
_SO = re.compile(r"(?:,|;)\s*(?:and\s+)?(?:so|therefore|hence|consequently|as\s+a\s+result)\s*,?\s+"
                 r"(?!(?:that|much|many|far|long|on|to|forth|called)\b)", re.IGNORECASE)


def _opens_with_anaphor(clause: str) -> bool:
    """Whether a clause's subject is "it", "they", "this", "this process"…"""
    toks = P.tokens(clause)
    words = [t.low for t in toks[P.skip_opener(toks):] if t.word][:2]
    if not words:
        return False
    first, second = words[0], (words[1] if len(words) > 1 else "")
    if first in {"it", "they"}:
        return True
    return first in {"this", "these", "such", "that", "those"} and (
        not second or second in P.GENERIC or P.is_verb(second, first))


def clause_subject(clause: str, context: str = "", need_verb: bool = False) -> str:
    """The subject of a clause; a pronoun subject resolves to ``context`` (the previous step's)."""
    subj = P.subject(clause, need_verb=need_verb)
    if usable(subj):
        return subj
    return context if context and _opens_with_anaphor(clause) else ""


def _pair(cause: str, effect: str) -> list[Triple]:
    if cause and effect and cause.lower() != effect.lower():
        return [Triple(cause, "causes", effect)]
    return []


def _because(sentence: str, context: str) -> list[Triple]:
    out: list[Triple] = []
    m = _BECAUSE.search(sentence)
    if m:
        after = sentence[m.end():]
        cause = P.head_object(after) if m.group(1) else clause_subject(after)
        if m.start() == 0:  # "Because X, Y."
            comma = after.find(",")
            effect = clause_subject(after[comma + 1:], context) if comma >= 0 else ""
        else:  # "Y because X."
            effect = clause_subject(sentence[:m.start()], context, need_verb=True)
        out += _pair(cause if usable(cause) else "", effect)
    m = _SO.search(sentence)
    if m:
        out += _pair(clause_subject(sentence[:m.start()], context), clause_subject(sentence[m.end():], need_verb=True))
    return out


_CONSEQUENCE = re.compile(r"^(?:therefore|thus|so|hence|consequently|accordingly|as\s+a\s+(?:result|consequence)"
                          r"|because\s+of\s+this|for\s+this\s+reason|in\s+turn|this\s+(?:means|is\s+why))\b\s*,?\s*",
                          re.IGNORECASE)
_EXPLANATION = re.compile(r"^(?:this|that|it)\s+(?:is|was|happens|occurs|works)\s+because\s+(?:of\s+)?",
                          re.IGNORECASE)


def link_triples(previous: str, current: str, context: str = "") -> list[Triple]:
    """``causes`` between the subjects of two consecutive steps joined by a discourse marker."""
    m = _CONSEQUENCE.match(current)
    if m:
        return _pair(clause_subject(previous, context), clause_subject(current[m.end():], context))
    m = _EXPLANATION.match(current)
    if m:
        rest = current[m.end():]
        cause = P.head_object(rest) if m.group().lower().rstrip().endswith("of") else clause_subject(rest)
        return _pair(cause, clause_subject(previous, context))
    return []
