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


DESCRIPTION_WORDS = 8  # a defined_as object describes (longer than a name), short enough never to carry a 13-word run


def _definition(right: str, start: int) -> str:
    """"protein that speeds up reactions" out of the words after "is a"."""
    end = _DEF_END.search(right, start)
    toks = [t for t in P.tokens(right[start:end.start() if end else len(right)]) if t.word][:DESCRIPTION_WORDS]
    while toks and (toks[-1].low in P.STOP or P.is_adverb(toks[-1].low)):
        toks = toks[:-1]
    return right[start + toks[0].start:start + toks[-1].end] if len(toks) >= 2 else ""


_SUBORDINATE = frozenset("when whenever if unless because since although though while once after before until as "
                         "whereas".split())
_NOT_A_CLASS = frozenset("""step way place time reason question topic area thing lot deal bit matter case
    result means measure function number few little variety range majority minority half""".split())
_PARTICIPLE_PREPS = frozenset("assuming using given including according considering regarding following "
                              "concerning excluding".split())
_REPORTED = re.compile(r"\b(?:propos|argu|believ|claim|suggest|hypothesi[sz]|hop|think|thought|fear|assum|contend"
                       r"|insist|predict|speculat|doubt|deni|denie|den(?:y|ies))\w*\s+(?:\w+\s+){0,2}that\s",
                       re.IGNORECASE)
_HEDGED = re.compile(r"\b(?:might|could|would|is\s+thought\s+to|are\s+thought\s+to|is\s+believed\s+to"
                     r"|are\s+believed\s+to|seems?\s+to|appears?\s+to|if|whether|unless|suppose|imagine)\s*$",
                     re.IGNORECASE)
_VERB_AFTER = re.compile(r"^\s*([a-z]+)\s+(?:the|an?|this|that|these|those|their|its|our|his|her|how|what|why"
                         r"|whether|which|who)\s")
_TO_VERB = re.compile(r"^\s*to\s+[a-z]+", re.IGNORECASE)
_OBJECT_TO_VERB = re.compile(r"^\s*(?:[\w'’-]+\s+){1,4}?to\s+(?!(?:the|an?|this|these|that|those|its|their|his|her|our"
                             r"|your|my|some|all|each|every|other|many|more|most|such|one|two|three)\b)[a-z]+\b")
_PRESENT_BE = re.compile(r"^(?:is|are)\b", re.IGNORECASE)
_MODIFIER = re.compile(r"\s*(?:that|which|who|whose|in\s+which|by\s+which|where|used|consisting|characterized|"
                       r"composed|made|named|called|known|found|responsible|involved|of|in|for|with|from|to|"
                       r"between|among|on|at|about|whereby)\b", re.IGNORECASE)


def noun_phrase(np: str) -> bool:
    """A complete noun phrase: usable, not a participle standing in for a preposition, no clause inside."""
    if not usable(np):
        return False
    words = np.lower().split()
    if words[0] in _PARTICIPLE_PREPS or words[-1] in P.AUX or words[-1] in P.PREPOSITIONS:
        return False
    if len(words) == 1 and words[0] in P.VERB_FORMS and words[0] not in P.NOUN_VERBS \
            and not words[0].endswith(("ing", "s")):
        return False  # "rely": a verb left where a noun phrase should be
    return not any(w in P.AUX or w in P.PERSONAL_PRONOUNS for w in words)


def _clause_left(left: str) -> str:
    """The part of ``left`` that belongs to the verb's own clause (after the last clause break)."""
    cut = max(left.rfind(";"), left.rfind(":"), left.rfind("—"), left.rfind(" – "))
    return left[cut + 1:]


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
        clause = _clause_left(left)
        if _REPORTED.search(clause) or _HEDGED.search(clause.rstrip()):
            continue  # "she argued that X is Y", "X might cause Y": the sentence does not assert it
        since_comma = clause[clause.rfind(",") + 1:].split()
        if since_comma and since_comma[0].lower() in _SUBORDINATE:
            continue  # "When a firm produces a product no one wants, ...": a condition, not a fact
        if before and (before.group(1).lower() in P.PREPOSITIONS or before.group(1).lower() in P.DETERMINERS) \
                and not m.group().lower().startswith(("is", "are", "was", "were", "has", "have")):
            continue  # "the choice between increased spending": a participle used as an adjective
        nxt = _VERB_AFTER.match(right)
        if nxt and nxt.group(1).lower() not in P.STOP and not m.group().lower().startswith(("is", "are", "was", "were")):
            continue  # "session increases reveal the truth": the matched word was a noun, the next the verb
        if relation == "defined_as" and re.match(r"refer", m.group(), re.IGNORECASE) and re.search(r"\sas\s", right):
            continue  # "economists refer to X as Y": a naming, read by _naming
        if relation in ("causes", "enables", "prevents", "requires") and not reverse:
            if _OBJECT_TO_VERB.match(right):
                continue  # "allows producers to raise prices": the object is an event, not the noun phrase
        subj = P.tail_subject(left)
        if subj is None:
            continue
        if not subj and context and _anaphor(left):
            subj = context
        if relation == "defined_as" and not reverse:
            described = _definition(right, 0)  # "the process by which plants make sugar", "refers to the ability to"
            described = re.sub(r"^(?:the|an?)\s+", "", described, flags=re.IGNORECASE)
            objects = [described] if described else []
        else:
            objects = P.head_objects(right)
        if not objects or not noun_phrase(subj):
            continue
        if relation == "is_a":
            head_words = [w for w in objects[0].lower().split() if w not in P.ADVERBS and w != "forward"]
            if re.match(r"\w{3,}(?:ed|ing)\b", objects[0]) or not head_words or head_words[-1] in _NOT_A_CLASS \
                    or head_words[-1] in P.GENERIC:
                continue  # "surveys were conducted asking", "was a great step forward": no class
        for s_part in split_coordination(subj):
            for o_part in objects:
                if (relation == "defined_as" and usable(o_part) or noun_phrase(o_part)) \
                        and s_part.lower() != o_part.lower():
                    out.append(Triple(o_part, relation, s_part) if reverse else Triple(s_part, relation, o_part))
        if relation == "is_a" and not reverse and _PRESENT_BE.match(m.group()):
            obj = objects[0]
            at = right.find(obj)
            if at >= 0 and (_MODIFIER.match(right, at + len(obj)) or subj[:1].islower() or subj.isupper()):
                described = _definition(right, at) or obj
                if described and len(described.split()) >= 2 and described.lower() != subj.lower():
                    out.append(Triple(subj, "defined_as", described))
    out.extend(_appositives(sentence))
    out.extend(_naming(sentence))
    out.extend(_hearst(sentence))
    out.extend(_covariation(sentence, context))
    return out


_APPOSITIVE = re.compile(r",\s+(?P<or>or\s+)?(?P<det>(?:a|an|the)\s+)?(?P<desc>[a-z][\w'’-]*(?:\s+[\w'’-]+){0,3}?)"
                         r"(?P<mod>\s+(?:that|which|who|whose|of|in|for|from|responsible|featured|found|used"
                         r"|concerning|known|involved)\b[^,;:()]*)?(?=\s*[,;.)]|$)")


def _appositives(sentence: str) -> list[Triple]:
    """"Claviceps purpurea, a fungus that grows on rye, ..." -> is_a fungus, defined_as its description."""
    out: list[Triple] = []
    blank = P.blank_brackets(sentence)
    for m in _APPOSITIVE.finditer(blank):
        if not (m.group("det") or m.group("or") or m.group("mod")):
            continue
        desc_words = m.group("desc").split()
        if not desc_words or desc_words[-1].lower() in P.STOP or desc_words[0].lower() in P.STOP:
            continue
        if any(w.lower() in P.VERB_FORMS and not w.lower().endswith(("ing", "ed")) and w.lower() not in P.NOUN_VERBS
               for w in desc_words[0 if not (m.group("det") or m.group("or")) else 1:]):
            continue  # "X, makes Y", "In X, the toxin causes Y": a clause, not a description
        if not m.group("det") and re.match(r"\w+(?:ing|ed)$", desc_words[0]):
            continue  # ", resulting in ...": a participle clause
        if sum(1 for t in P.tokens(m.group("mod") or "") if t.low in P.AUX) >= 2:
            continue  # ", the notion that X are Y is useful": the description is a clause's subject
        tail = blank[m.end():].lstrip(" ,")
        if tail.startswith(("and ", "or ", "etc")):
            continue  # "A, B, and C": a list, not an appositive
        following = tail.split(" ", 1)[0].lower().strip(".;:)")
        if blank[m.end():].lstrip().startswith(",") and following and not (
                following in P.AUX or following in P.VERB_FORMS or following in P.DETERMINERS
                or following in P.ADVERBS or following in {"which", "who", "that"} or following.endswith("ed")):
            continue  # "Herding, or pastoral, societies": modifiers of the noun that follows
        left = blank[:m.start()]
        opener = re.match(r"\s*(\w+)", left)
        if opener and "," not in left and (opener.group(1).lower() in _SUBORDINATE
                                            or opener.group(1).lower() in P.PREPOSITIONS):
            continue  # "When asked to find X, use ...", "In X, the ...": the comma closes an opening clause
        toks = P.tokens(left)
        head = P.antecedent(toks, left)
        if " and " in head or " or " in head or (m.group("or") and " of " in head):
            # "the pantheon and divination system of Ifá, the religion"; "the use of cookies, or blocks of data"
            head = re.split(r"\s(?:of|and|or|in|on|for)\s", head)[-1]
        if not head or not noun_phrase(head):
            continue
        at = left.rfind(head)
        before = left[:at].rstrip()
        if before.endswith(",") or before.lower().endswith((" and", " or")):
            continue  # the noun phrase is itself an item of a list
        mod = m.group("mod") or ""
        general = P.head_object(m.group("desc") + (mod if mod.lstrip().startswith("of ") else ""))
        if not general or not noun_phrase(general) or general.lower() == head.lower():
            continue
        if re.split(r"\s(?:of|in|for)\s", general.lower())[0].split()[-1] in _NOT_A_CLASS | P.GENERIC:
            continue
        quantifier = left[:at].split()[-1:]
        if quantifier and quantifier[0].lower() in {"some", "many", "most", "several", "certain"}:
            out.append(Triple(general, "is_a", head))  # "Some algae, the seaweeds, ...": the seaweeds are algae
            continue
        out.append(Triple(head, "is_a", general))
        described = " ".join((m.group("desc") + (m.group("mod") or "")).split()).rstrip(" .;")
        if len(described.split()) >= 2:
            out.append(Triple(head, "defined_as", " ".join(described.split()[:DESCRIPTION_WORDS])))
    return out


_CALLED = re.compile(r"\b(?:an?|the)\s+(?P<general>[a-z][\w'’-]*(?:\s+(?:of\s+the\s+|of\s+)?[\w'’-]+){0,3}?)\s+"
                     r"(?:called|known\s+as|named|termed)\s+(?P<term>(?:the\s+)?[\w'’-]+(?:\s+[\w'’-]+){0,2}?)"
                     r"(?=\s*[,;.)]|\s+(?:is|are|was|were|and)\b|$)")
_WE_CALL = re.compile(r"^(?:[\w'’-]+\s+){0,2}?(?:often\s+|usually\s+|sometimes\s+)?(?:call|calls|called|term|terms"
                      r"|name|names)\s+(?P<desc>.{8,}?)\s+(?P<term>(?:the|an?)\s+[\w'’-]+(?:\s+[\w'’-]+){0,2})\s*[.!]?$",
                      re.IGNORECASE)
_REFER_AS = re.compile(r"\brefers?\s+to\s+(?P<desc>.{8,}?)\s+as\s+(?P<term>(?:the|an?)\s+[\w'’-]+(?:\s+[\w'’-]+){0,2})"
                       r"\s*[.!]?$", re.IGNORECASE)
_WHICH_CALLED = re.compile(r"^(?P<desc>.{8,}?),\s+which\s+(?:[\w'’-]+\s+){0,2}(?:called|calls|termed|named)\s+"
                           r"(?P<term>[\w'’-]+(?:\s+[\w'’-]+){0,2})\s*[.!]?$", re.IGNORECASE)


def _naming(sentence: str) -> list[Triple]:
    """"a mycotoxin called ergot toxin", "Economists call the time it takes ... the recognition lag"."""
    out: list[Triple] = []
    for m in _CALLED.finditer(sentence):
        term = P.clean(P.tokens(m.group("term")), m.group("term"))
        general = P.clean(P.tokens(m.group("general")), m.group("general"))
        if not term or not general or not noun_phrase(term) or term.lower() == general.lower():
            continue
        low = general.lower()
        raw = m.group("general")
        whole = P.clean(P.tokens(raw[8:]), raw[8:]) if raw.lower().startswith("part of ") else ""
        if whole:
            if noun_phrase(whole):
                out.append(Triple(term, "part_of", whole))
        elif usable(general) and low.split()[-1] not in _NOT_A_CLASS | P.GENERIC:
            out.append(Triple(term, "is_a", general))
    body = sentence.strip()
    for pattern in (_WE_CALL, _REFER_AS, _WHICH_CALLED):
        m = pattern.search(body)
        if m:
            term = P.clean(P.tokens(m.group("term")), m.group("term"))
            desc = " ".join(m.group("desc").split())
            desc = re.sub(r"^(?:the|a|an)\s+", "", desc, flags=re.IGNORECASE)
            if pattern is _WHICH_CALLED:
                desc = re.sub(r"^(?:we|you|they|people|one)\s+\w+\s+(?:by\s+)?", "", desc, flags=re.IGNORECASE)
            words = desc.rstrip(" .,;").split()[:DESCRIPTION_WORDS]
            while words and words[-1].lower().strip(",;") in P.STOP:
                words.pop()
            if term and noun_phrase(term) and len(words) >= 2:
                out.append(Triple(term, "defined_as", " ".join(words).rstrip(",;")))
            break
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



_UP_WORDS = re.compile(rf"\b{_UP}\b|\b(?:increases?|increased|raises?|raised)\b", re.IGNORECASE)
_DOWN_WORDS = re.compile(rf"\b{_DOWN}\b|\b(?:decreases?|decreased|reduces?|reduced|lowers?|lowered)\b", re.IGNORECASE)
_CONSEQUENCE = re.compile(r"^(?:therefore|thus|so|hence|consequently|accordingly|as\s+a\s+(?:result|consequence)"
                          r"|because\s+of\s+this|for\s+this\s+reason|in\s+turn|this\s+(?:means|is\s+why))\b\s*,?\s*",
                          re.IGNORECASE)


def _change(clause: str, context: str = "") -> tuple[str, bool] | None:
    """(what changes, whether it goes up) for a clause like "the temperature of the gas rises"."""
    subj = clause_subject(clause, context, need_verb=True)
    if not subj or not noun_phrase(subj):
        return None
    rest = clause[clause.find(subj) + len(subj):] if subj in clause else clause
    verb = re.match(r"\s*(?:\w+ly\s+|also\s+|will\s+|then\s+)*(\w+(?:\s+(?:up|down))?)", rest)
    if not verb:
        return None
    word = verb.group(1)
    if re.fullmatch(_UP, word, re.IGNORECASE):
        return subj, True
    if re.fullmatch(_DOWN, word, re.IGNORECASE):
        return subj, False
    return None


def link_triples(previous: str, current: str, context: str = "") -> list[Triple]:
    """"X rises. Therefore, Y falls." -> (X, decreases, Y): a typed link between two consecutive steps,
    only when both state a change of something (two events joined by a connective name no relation
    between their subjects, so nothing is said of them)."""
    m = _CONSEQUENCE.match(current)
    if not m:
        return []
    cause, effect = _change(previous, context), _change(current[m.end():], context)
    if cause is None or effect is None or cause[0].lower() == effect[0].lower():
        return []
    return [Triple(cause[0], "increases" if cause[1] == effect[1] else "decreases", effect[0])]
