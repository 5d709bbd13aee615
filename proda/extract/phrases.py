"""Word lists and noun-phrase helpers for the heuristic extractor (no tagger, no model).

A noun phrase is cut out of a clause by closed-class words: determiners and quantifiers are
stripped at the front, prepositions, conjunctions and auxiliaries at the back, and a verb
(an auxiliary, a known verb form, or an ``-ed`` word that does not follow a determiner) ends a
subject. Phrases keep at most ``MAX_WORDS`` words, cut at a preposition so that "increase in the
concentration of carbon dioxide in the atmosphere" becomes "increase in the concentration of carbon
dioxide", never a dangling "... of".
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import NamedTuple

MAX_WORDS = 6


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DETERMINERS = _words("""a an the this that these those its their his her our your my some any each every
    all both many much most more few fewer several such other another no certain various same own
    which what whose either neither whole entire""")
PRONOUNS = _words("""it they this that these those he she we you i them him her us there which who what
    one ones something anything everything nothing someone anyone everyone here itself themselves
    himself herself ourselves yourself whom whose whatever whichever how why whether""")
PREPOSITIONS = _words("""of in on at by for with from to into onto over under between among through
    during within without about across along around against toward towards upon via per than like
    as after before behind beyond near since until throughout inside outside below above beneath
    despite except including""")
CONJUNCTIONS = _words("and or but nor yet so")
CLAUSE_WORDS = _words("""that which who whom whose where when whenever while whereas because although
    though if unless once until so since whether""")
AUX = _words("""is are was were be been being am has have had having do does did can could will would
    shall should may might must cannot""")
NEGATIONS = _words("not never no cannot neither nor hardly rarely seldom")
ADVERBS = _words("""also only even just often usually typically generally then thus therefore still
    always sometimes very quite rather mostly largely mainly primarily directly indirectly further
    actually really simply already however instead eventually ultimately finally first second
    third next later now soon again hence consequently accordingly essentially certainly probably
    perhaps possibly likely furthermore moreover additionally lastly last note namely overall
    out up down off away back together alone apart""")
NOT_ADVERB_LY = _words("""family supply assembly monopoly reply ally italy july anomaly butterfly jelly
    belly rally poly fly holy ugly early only oily apply rely imply comply multiply""")
NOT_VERB_ED = _words("speed hundred indeed seed breed greed kindred need bed red shed feed reed weed bleed")
GENERIC = _words("""process processes way ways thing things type types kind kinds case cases example
    examples situation situations result results fact facts idea ideas part parts form forms one ones
    step steps effect effects point points change changes approach method instance issue matter
    problem question factor factors aspect aspects lot number amount""")
PRONOUN_RESOLVABLE = _words("it they this these such its their")

_BASE_VERBS = """use take make give become get go come show find provide occur exist include involve
    contain allow help keep move change begin continue seem appear remain depend describe explain
    affect determine represent create develop form produce release reduce increase decrease cause
    lead result require need follow precede enable prevent block lower raise consist call know define
    refer mean tell see think feel believe suggest indicate demonstrate play act serve work live grow
    die build carry hold bring turn set put run pass apply accept argue claim consider study measure
    observe examine test compare divide combine convert transfer absorb emit generate yield trigger
    induce inhibit stimulate promote enhance limit restrict control regulate maintain support protect
    destroy damage break bind attach join connect separate split spread travel flow rise fall drop
    expand contract heat cool melt freeze boil dissolve react collide orbit rotate spin accelerate
    push pull lift reach enter leave return replace remove add lose gain win fight pay sell buy spend
    own rule govern vote elect pass sign declare establish found settle invade attack defeat conquer
    colonize trade export import earn save invest borrow lend hire employ produce consume supply
    demand offer charge cost benefit encourage discourage force forbid permit let try want like learn
    teach write read speak say ask answer solve calculate estimate predict assume suppose expect
    happen arise emerge evolve adapt survive reproduce replicate transcribe translate encode express
    infect kill detect identify recognize respond signal send receive store carry deliver transport
    pump filter secrete digest excrete contract relax stretch shape choose decide prefer seek avoid
    face meet lack share differ vary tend reflect refract diffuse scatter collapse fuse decay ionize
    oxidize reduce dissociate neutralize precipitate crystallize evaporate condense sublime shift
    exploit impose assign contest imagine occupy upset slow speed lie sit stand cross drive exert
    oppose resist sustain vary equal exceed approach depend involve result relate correspond
    compete cooperate interact migrate invest influence shape enforce interpret justify reject
    argue propose develop represent tend seem look sound taste smell stop start end finish rely
    suggest preside believe focus emphasize discuss mention note notice regard treat view deal
    engage participate operate perform function behave respond react link bind attach derive obtain
    achieve perceive consist comprise constitute contribute facilitate restrict reinforce strengthen
    weaken enlarge shrink narrow widen deepen tighten loosen split unite divide merge integrate
    separate isolate distinguish classify categorize organize arrange structure order rank rate
    select choose pick elect appoint nominate approve reject pass veto enact adopt ratify amend
    repeal overturn challenge question doubt deny confirm verify prove disprove support oppose""".split()
_IRREGULAR = """took taken made gave given became got gotten went gone came showed shown found kept began
    begun led meant held brought built grew grown thought felt saw seen knew known told ran put set won
    lost fought paid sold bought left sent spent struck rose risen fell fallen drove driven wrote written
    spoke spoken chose chosen broke broken split spread bound arose arisen sought taught understood
    understands understand underwent undergo undergoes undergone""".split()


def _inflect(base: str) -> set[str]:
    forms = {base}
    if base.endswith(("s", "sh", "ch", "x", "z")):
        forms.add(base + "es")
    elif base.endswith("y") and base[-2:-1] not in "aeiou":
        forms.add(base[:-1] + "ies")
    else:
        forms.add(base + "s")
    stem = base[:-1] if base.endswith("e") else base
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        forms.add(base[:-1] + "ied")
    else:
        forms.add(stem + "ed")
    forms.add(stem + "ing")
    return forms


VERB_FORMS = frozenset(set().union(*(_inflect(v) for v in _BASE_VERBS)) | set(_IRREGULAR))
STOP = DETERMINERS | PRONOUNS | PREPOSITIONS | CONJUNCTIONS | CLAUSE_WORDS | AUX | NEGATIONS | ADVERBS

_TOKEN = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|[^\W_]+(?:[-'’./][^\W_]+)*|[,;:()\[\]{}—–!?\"“”]")
_PAREN = re.compile(r"\([^()]*\)|\[[^\[\]]*\]")
_PUNCT_BOUNDARY = frozenset(",;:()[]{}—–!?\"“”")


class Tok(NamedTuple):
    text: str
    low: str
    start: int
    end: int
    word: bool


def blank_brackets(text: str) -> str:
    """``text`` with parenthesised and bracketed asides replaced by spaces (offsets kept)."""
    return _PAREN.sub(lambda m: " " * len(m.group()), text)


@functools.lru_cache(maxsize=4096)
def tokens(text: str) -> tuple[Tok, ...]:
    """Words and boundary punctuation of ``text`` (cached: a sentence is read several times)."""
    out = []
    new = tuple.__new__
    for m in _TOKEN.finditer(text):
        g = m.group()
        start = m.start()
        out.append(new(Tok, (g, g.lower(), start, start + len(g), g[0].isalnum())))
    return tuple(out)


def head(text: str, limit: int = 160) -> str:
    """The first ``limit`` characters of ``text``, cut at a space (noun phrases are short)."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > 0 else limit]


def tail(text: str, limit: int = 200) -> str:
    """The last ``limit`` characters of ``text``, cut at a space; offsets shift, so callers only slice it."""
    if len(text) <= limit:
        return text
    cut = text.find(" ", len(text) - limit)
    return text[cut if cut >= 0 else len(text) - limit:]


def is_adverb(low: str) -> bool:
    return low in ADVERBS or (low.endswith("ly") and len(low) > 4 and low not in NOT_ADVERB_LY)


PERSONAL_PRONOUNS = _PERSONAL = _words("we you i they he she")
_NUMBER_WORDS = _words("one two three four five six seven eight nine ten")
# determiners that open a new noun phrase (so the word before them, if a content word, was a verb)
NP_OPENERS = _words("a an the this these those its their his her our your my some many several each every no another")


def is_verb(low: str, prev: str | None, nxt: str | None = None) -> bool:
    """Whether a token is (probably) a finite verb, given the previous (and next) token, lowercase.
    A noun-verb word ("supply", "heat") followed by another content word is a compound noun."""
    if nxt is not None and (low in _NOUNISH or low[:-1] in _NOUNISH) and (
            nxt == "of" or nxt not in STOP and not is_adverb(nxt)):
        return False  # "supply curve", "form of"
    if low in AUX or ((prev in _PERSONAL or prev in AUX) and low not in STOP):
        return True
    if prev in {"this", "that", "it", "which", "who"} and low.endswith(("s", "ed")) and (
            low in VERB_FORMS or prev in {"which", "who"} and len(low) > 3 and not low.endswith(("ss", "us", "is"))):
        return True  # "this causes", "who introduces": a pronoun subject, not "these changes"
    if prev in {"these", "those", "they", "we"} and low.endswith("ed"):
        return True
    after_modifier = prev is None or prev in DETERMINERS or prev in PREPOSITIONS or prev in _NUMBER_WORDS
    if low in VERB_FORMS:
        return not after_modifier
    if low.endswith("ed") and len(low) >= 5 and low not in NOT_VERB_ED:
        return not after_modifier and not (prev and is_adverb(prev) and prev not in ADVERBS)
    return False


def clean(toks: Sequence[Tok], text: str) -> str:
    """The noun phrase the word tokens ``toks`` (from ``text``) contain, or "" if none."""
    toks = [t for t in toks if t.word]
    while toks and (toks[0].low in DETERMINERS or toks[0].low in ADVERBS or toks[0].low in CONJUNCTIONS
                    or (is_adverb(toks[0].low) and len(toks) > 1)):
        # "one of the", "some of the": the quantity word and its "of" go too
        toks = toks[2:] if len(toks) > 2 and toks[1].low == "of" and toks[0].low in DETERMINERS else toks[1:]
    while len(toks) > 1 and toks[0].low[:1].isdigit() and toks[0].low.replace(",", "").replace(".", "").isdigit():
        toks = toks[1:]  # "150 globular clusters": the count is no part of the name
    if len(toks) > 1 and toks[0].low == "one" and toks[1].low != "of":
        toks = toks[1:]  # "one form of B cells"
    if len(toks) > 2 and toks[0].low in {"one", "part", "most", "some", "each"} and toks[1].low == "of":
        toks = toks[2:]
        while toks and toks[0].low in DETERMINERS:
            toks = toks[1:]
    for i in range(1, len(toks)):
        # a prepositional phrase stays only after "of" or a relational noun: "speed of the cart",
        # "increase in temperature"; "ATP in the cell" is "ATP"
        if toks[i].low in PREPOSITIONS and toks[i].low != "of" and toks[i - 1].low not in _RELATIONAL:
            toks = toks[:i]
            break
    if len(toks) > MAX_WORDS:
        cut = max((i for i in range(1, MAX_WORDS + 1) if toks[i].low in PREPOSITIONS), default=MAX_WORDS)
        toks = toks[:cut]
    while toks and (toks[-1].low in STOP or toks[-1].low in _TRAILING or is_adverb(toks[-1].low)
                    or toks[-1].low in VERB_FORMS and len(toks) > 1 and toks[-2].low == "to"):
        toks = toks[:-1]
    if not toks or toks[0].low in PRONOUNS or toks[0].low in PREPOSITIONS:
        return ""
    if not any(t.low not in STOP and any(c.isalpha() for c in t.low) and len(t.low) > 1 for t in toks):
        return ""
    if any(t.low in {"figure", "table", "equation"} and t.start > 0 and text[t.start - 1] == "[" for t in toks):
        return ""
    return " ".join(text[toks[0].start:toks[-1].end].split())


def subject(text: str, toks: Sequence[Tok] | None = None, need_verb: bool = False) -> str:
    """The subject noun phrase of a clause: the words before its first verb ("" if ``need_verb`` and
    no verb follows)."""
    if toks is None:
        return _subject(text, need_verb)
    return _subject_of(text, toks, need_verb)


@functools.lru_cache(maxsize=8192)
def _subject(text: str, need_verb: bool) -> str:  # a sentence is asked for its subject several times
    return _subject_of(text, None, need_verb)


def _subject_of(text: str, toks: Sequence[Tok] | None, need_verb: bool) -> str:
    text = blank_brackets(head(text, 400))
    toks = tokens(text) if toks is None else toks
    i = skip_opener(toks)
    out: list[Tok] = []
    prev: str | None = None
    first = next((t for t in toks[i:] if t.word), None)
    if first is not None and (first.low in VERB_FORMS and first.low not in _NOUNISH or
                              first.low.endswith("ing") and len(first.low) > 5):
        return ""  # an imperative ("Substitute the values") or a gerund clause ("Taking the time ...")
    verb = False
    for j in range(i, len(toks)):
        t = toks[j]
        nxt = toks[j + 1].low if j + 1 < len(toks) else None
        if not t.word or t.low in CLAUSE_WORDS or is_verb(t.low, prev, nxt) or (is_adverb(t.low) and out):
            verb = t.word and (is_verb(t.low, prev, nxt) or is_adverb(t.low))
            break
        if out and t.low in NP_OPENERS and prev not in STOP:
            out.pop()  # "observations fit our intuition": the word before a new determiner was a verb
            verb = True
            break
        if out and prev not in STOP and _looks_finite(t.low) and j + 1 < len(toks) and (
                toks[j + 1].low in DETERMINERS or toks[j + 1].low in {"so", "not", "also"}
                or is_adverb(toks[j + 1].low)):
            verb = True
            break  # "the demand curve shifts to ...": an unknown verb in the 3rd person
        out.append(t)
        prev = t.low
    if need_verb and not verb:
        return ""
    return clean(out, text)


def _looks_finite(low: str) -> bool:
    return low.endswith("s") and not low.endswith(("ss", "us", "is", "ics", "ous")) and len(low) > 3


_RELATIONAL = _words("""increase increases decrease decreases change changes rise rises fall falls drop drops
    decline declines loss losses gain gains reduction reductions growth shift shifts difference differences
    demand need support resistance access response responses exposure contribution transition conversion
    relationship relationships ratio""")
_TRAILING = _words("due prior according owing relative compared thanks regardless")
NOUN_VERBS = _NOUNISH = _words("""use change form result increase decrease release need cause supply demand work
    control trade rule study test measure act turn set run rise fall drop spread shape face lack
    share state heat cost benefit charge offer return support design process record place vote
    structure order rate function view deal question label filter target host process""")
_OPENERS = _words("""therefore thus so hence consequently accordingly however moreover furthermore
    also then next finally first second third lastly in addition similarly likewise instead
    meanwhile indeed yet still now here""")
_SUBORDINATORS = _words("""because since although though if when whenever while once as after before
    unless until given assuming suppose whereas to""")


def skip_opener(toks: Sequence[Tok]) -> int:
    """Index after a leading connective ("Therefore,") or subordinate clause ("When X happens,")."""
    if not toks:
        return 0
    for j, t in enumerate(toks[:5]):  # "That is,", "In other words,", "For one thing,"
        if t.text == ",":
            if all(x.low in STOP or is_adverb(x.low) or x.low in {"thing", "words", "example", "instance", "fact"}
                   for x in toks[:j]):
                return j + 1
            break
    first = toks[0].low
    if first in _SUBORDINATORS or (first in PREPOSITIONS and first not in {"of"}) or first in _OPENERS:
        for j, t in enumerate(toks[:25]):
            if t.text == ",":
                return j + 1
        if first in _OPENERS:
            return 1
    return 0


def tail_subject(left: str) -> str | None:
    """The subject of a relation whose verb starts right after ``left``; None when the match is negated
    or an infinitive; "" when there is no usable subject."""
    left = blank_brackets(tail(left))
    toks = tokens(left)
    while toks and toks[-1].word and (toks[-1].low in AUX or is_adverb(toks[-1].low)):
        if toks[-1].low in NEGATIONS:
            return None
        toks = toks[:-1]
    if toks and toks[-1].low in NEGATIONS | {"to"}:
        return None
    cut = 0
    for j in range(len(toks) - 1, -1, -1):
        t = toks[j]
        if (not t.word and t.text in _PUNCT_BOUNDARY) or t.low in CLAUSE_WORDS:
            cut = j + 1
            if cut == len(toks) and t.low in {"that", "which", "who"}:
                return antecedent(toks[:j], left)
            break
    part = toks[cut:]
    if not part:
        return ""
    if cut and toks[cut - 1].low in {"that", "which", "who"} and is_verb(part[0].low, "which"):
        return antecedent(toks[:cut - 1], left)  # "the bacterium that grew on media [formed]"
    if part[0].low in {"no", "none", "neither", "nothing", "nobody", "few"}:
        return None  # "No known star emits ...": a negated subject asserts nothing
    verbs = [j for j in range(1, len(part) - 1) if is_verb(part[j].low, part[j - 1].low,
                                                       part[j + 1].low if j + 1 < len(part) else None)]
    if verbs:
        if part[-1].low in {"and", "or"}:
            part = part[:verbs[0]]  # "The reaction releases heat and [produces] water": the shared subject
        else:
            part = part[verbs[-1] + 1:]  # "researchers suggest this [is due to]": the inner clause's subject
    return clean(part, left)


def antecedent(toks: Sequence[Tok], text: str) -> str:
    """The noun phrase right before a relative pronoun: "the gas, which" -> "gas"."""
    while toks and not toks[-1].word:
        toks = toks[:-1]
    j = len(toks)
    while j > 0 and toks[j - 1].word and not is_verb(toks[j - 1].low, toks[j - 2].low if j > 1 else None) \
            and toks[j - 1].low not in CLAUSE_WORDS and len(toks) - j < MAX_WORDS:
        j -= 1
    found = clean(toks[j:], text)
    if not found:  # "diseases such as smallpox, which": the words after the last preposition
        k = max((i + 1 for i in range(j, len(toks)) if toks[i].low in PREPOSITIONS), default=j)
        found = clean(toks[k:], text)
    return found


_OBJECT_STOP = CLAUSE_WORDS | CONJUNCTIONS | AUX | _words("as than by through via using whereby thereby")


def head_object(right: str) -> str:
    """The noun phrase that starts ``right`` (the words after a relation verb)."""
    right = head(right)
    toks = tokens(right)
    out: list[Tok] = []
    prev: str | None = None
    for j, t in enumerate(toks):
        if t.text == "," and out and all(o.low in DETERMINERS for o in out):
            continue  # "led to other, similar projects"
        if not t.word or t.low in _OBJECT_STOP:
            break
        nxt = toks[j + 1].low if j + 1 < len(toks) else ""
        if t.low == "to" and (nxt in VERB_FORMS or nxt in AUX or nxt in _words("be have")):
            break
        if out and (t.low in AUX or t.low.endswith("ed") and is_verb(t.low, prev)
                    or nxt in NP_OPENERS and is_verb(t.low, prev, nxt) or _looks_finite(t.low) and nxt in NP_OPENERS):
            break  # "a woman [changes] the probability"
        if len(out) > MAX_WORDS + 2:
            break
        out.append(t)
        prev = t.low
    return clean(out, right)


def head_objects(right: str) -> list[str]:
    """Like ``head_object``, but "hydrogen and oxygen" or "heat, light, and sound" give each part."""
    first = head_object(right)
    if not first:
        return []
    right = blank_brackets(head(right))
    groups: list[list[Tok]] = [[]]
    separators: list[str] = []
    for t in tokens(right):
        if t.low in {"and", "or", ","}:
            if groups[-1]:
                if separators and separators[-1] in {"and", "or"}:
                    break  # the list ended with its "and": "whales and bats, nurse"
                separators.append(t.low)
                groups.append([])
            elif separators and t.low != ",":
                separators[-1] = t.low  # the "and" of ", and"
            continue
        if not t.word or t.low in _OBJECT_STOP or (t.low == "to" and groups[-1]) or len(groups[-1]) > 4:
            break
        groups[-1].append(t)
    groups = [g for g in groups if g]
    if len(groups) < 2 or len(groups) > 5 or not separators or separators[len(groups) - 2] not in {"and", "or"}:
        return [first]
    parts = [clean(g, right) for g in groups]
    if not all(parts) or any(len(p.split()) > 3 for p in parts):
        return [first]  # long parts are clauses ("a barrier, and its ions neutralize acid"), not a list
    if len(parts[-1].split()) > 1 and all(len(g) == 1 for g in groups[:-1]):
        return [parts[-1]]  # "anxious, withdrawn, and unhappy kids": adjectives of one noun
    return parts


def content_stems(text: str) -> frozenset[str]:
    """Crude content-word stems, for lexical cohesion between sentences."""
    return frozenset(t.low[:6] if not t.low.endswith("s") else t.low[:-1][:6]
                     for t in tokens(text) if t.word and len(t.low) > 3 and t.low not in STOP)
