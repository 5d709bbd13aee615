"""One-edit changes of a true sentence that make it false and keep it fluent: the adjacency and
inversion operators of the Tester.

An :class:`Edit` replaces one span of a sentence. ``adjacency`` puts a neighbouring concept (same
category, same document) in place of a concept the sentence names, in the same number ("proteins" ->
"lipids") and with the article fixed ("a enzyme" never happens). ``inversion`` replaces the verb of a
relation the sentence states by the verb of its opposite relation, in the same tense and number
(``proda.text.relations.OPPOSITE_VERBS``: "raises" -> "lowers", "led to" -> "prevented"), found through
the L2 triples of the sentence; where no triple has an opposite verb, a direction word is turned
round ("higher" -> "lower"). Neither ever adds "not". Two edits on different spans compose, which
is what makes a factorial option set (:mod:`proda.bench.options`). Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from ..records import Concept, Statement
from ..text import relations as R


class Edit(NamedTuple):
    operator: str  # adjacency | inversion
    start: int
    end: int
    text: str  # what replaces sentence[start:end]
    reason: str  # why the edited sentence is false
    change: tuple[str, str]  # what became what: (concept key, neighbour key) or (word, opposite word)


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")
_ARTICLE = re.compile(r"\b(an?)\s+$", re.IGNORECASE)
_NOT_BEFORE_VERB = frozenset("the a an this that these those its their his her our your of in on at to for by "
                             "with from into main major primary key common each every no any some".split())
_MAX_WORDS = 6  # longest concept name looked for


def norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def apply(sentence: str, edits: Iterable[Edit]) -> str:
    """The sentence with every edit applied (edits must not overlap)."""
    out = sentence
    for e in sorted(edits, key=lambda e: -e.start):
        out = out[:e.start] + e.text + out[e.end:]
    return out


def overlap(a: Edit, b: Edit) -> bool:
    return a.start < b.end and b.start < a.end


# --- agreement -------------------------------------------------------------------------------------


def article_for(word: str) -> str:
    """"a" or "an" before ``word`` (by its first sound, as far as spelling tells)."""
    w = word.strip()
    if not w:
        return "a"
    first = w.split()[0]
    if first.isupper() and len(first) > 1:  # an acronym is spelled out: "an LDL", "a DNA"
        return "an" if first[0] in "AEFHILMNORSX" else "a"
    low = first.lower()
    if low.startswith(("uni", "use", "usu", "uti", "eu", "one", "once")):
        return "a"
    if low.startswith(("hour", "honest", "honor", "heir")):
        return "an"
    return "an" if low[0] in "aeiou" else "a"


def _with_article(sentence: str, start: int, end: int, text: str) -> tuple[int, str]:
    """Extend an edit at [start, end) back over a preceding "a"/"an", fixed for ``text``."""
    m = _ARTICLE.search(sentence, 0, start)
    if m is None or m.end() != start:
        return start, text
    article = article_for(text)
    old = m.group(1)
    if old[0].isupper():
        article = article.capitalize()
    return m.start(), f"{article}{sentence[m.end(1):start]}{text}"


def is_plural(phrase: str) -> bool:
    last = phrase.split()[-1].lower() if phrase.split() else ""
    return (len(last) > 3 and last.endswith("s") and not last.endswith(("ss", "us", "is", "ics", "ous"))) \
        or last in {"people", "children", "data", "bacteria", "media", "criteria", "phenomena"}


def pluralise(phrase: str) -> str:
    words = phrase.split()
    if not words or is_plural(phrase):
        return phrase
    last = words[-1]
    if last.isupper():
        plural = last + "s"
    elif re.search(r"[^aeiou]y$", last):
        plural = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", last):
        plural = last + "es"
    else:
        plural = last + "s"
    return " ".join(words[:-1] + [plural])


def singularise(phrase: str) -> str:
    words = phrase.split()
    if not words or not is_plural(phrase):
        return phrase
    last = words[-1]
    if last.endswith("ies") and len(last) > 4:
        single = last[:-3] + "y"
    elif re.search(r"(ses|xes|zes|ches|shes)$", last):
        single = last[:-2]
    elif last.endswith("s"):
        single = last[:-1]
    else:
        return phrase
    return " ".join(words[:-1] + [single])


def _match_case(template: str, text: str) -> str:
    if template[:1].isupper() and text[:1].islower():
        return text[:1].upper() + text[1:]
    return text


# --- finding concepts in a sentence --------------------------------------------------------------


class Mention(NamedTuple):
    concept: Concept
    start: int
    end: int
    plural: bool  # the sentence names it in the plural


_BAD_NAME = re.compile(r"[^A-Za-z0-9 '’-]|\b(?:is|are|was|were|be|been|has|have|had|causes?|caused|does|do|did|"
                       r"can|will|would|should|may|might|must|not|which|that|this|these|those|it|they|the|a|an|"
                       r"of|and|or|to|in|on|by|for|with|as|at|from)\b",
                       re.IGNORECASE)


def usable_name(name: str) -> bool:
    """Whether a concept name can stand in a sentence in place of another: a short noun phrase
    (one to three words, no verb, article or preposition, at least one word of three letters)."""
    words = name.split()
    return 1 <= len(words) <= 3 and not _BAD_NAME.search(name) and any(len(w) >= 3 for w in words)


class Pool:
    """The concepts one chain's sentences can name and swap: the chain's own (with aliases) and its
    document's (by name). Built once per chain."""

    def __init__(self, own: Sequence[Concept], neighbours: Sequence[Concept]):
        self.table: dict[str, Concept] = {}
        self.forms: dict[str, set[str]] = {}
        own_keys = {c.key for c in own}
        for c, aliases in [(c, True) for c in own] + [(c, False) for c in neighbours if c.key not in own_keys]:
            forms = {norm(f) for f in (c.name, *(c.aliases if aliases else ())) if norm(f)}
            self.forms.setdefault(c.key, set()).update(forms)
            for form in forms:
                if len(form.split()) <= _MAX_WORDS:
                    self.table.setdefault(form, c)
        self.swaps: dict[str, list[tuple[Concept, str]]] = {}  # the chain's own concepts can stand in too
        for c in [*own, *(c for c in neighbours if c.key not in own_keys)]:
            if usable_name(c.name):
                self.swaps.setdefault(c.category, []).append((c, norm(c.name)))

    def mentions(self, sentence: str) -> list[Mention]:
        """Concepts named in ``sentence``, longest name first, never two on one word; a name matches
        its plural too ("enzyme" in "enzymes")."""
        words = [(m.start(), m.end(), m.group().lower().replace("’", "'")) for m in _WORD.finditer(sentence)]
        taken = [False] * len(words)
        found: list[Mention] = []
        for size in range(min(_MAX_WORDS, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                if any(taken[i:i + size]):
                    continue
                phrase = " ".join(w for _, _, w in words[i:i + size])
                concept, plural = self.table.get(phrase), False
                if concept is None:
                    for cut in ("es", "s"):
                        if phrase.endswith(cut) and phrase[:-len(cut)] in self.table:
                            concept, plural = self.table[phrase[:-len(cut)]], True
                            break
                if concept is None:
                    continue
                taken[i:i + size] = [True] * size
                found.append(Mention(concept, words[i][0], words[i + size - 1][1], plural or is_plural(phrase)))
        return sorted(found, key=lambda m: m.start)


# --- adjacency -------------------------------------------------------------------------------------


def adjacency(sentence: str, pool: Pool) -> list[Edit]:
    """Every swap of a concept named in ``sentence`` for a document concept of the same category,
    those that change the sentence's length least first. A candidate is left out when it, or a
    concept overlapping it, is already named in the sentence."""
    found = pool.mentions(sentence)
    named = {norm(sentence[m.start:m.end]) for m in found}
    text_norm = f" {norm(sentence)} "
    edits: list[tuple[int, Edit]] = []
    for m in found:
        surface = sentence[m.start:m.end]
        if not usable_name(surface) or not usable_name(m.concept.name):
            continue
        own_forms = pool.forms.get(m.concept.key, set())
        for y, y_norm in pool.swaps.get(m.concept.category, []):
            if (y.key == m.concept.key or y_norm in named or f" {y_norm} " in text_norm
                    or any(f" {y_norm} " in f" {f} " or f" {f} " in f" {y_norm} " for f in own_forms)):
                continue
            name = pluralise(y.name) if m.plural else singularise(y.name)
            name = _match_case(surface, name) if m.start == 0 else name
            start, text = _with_article(sentence, m.start, m.end, name)
            reason = (f"puts '{y.name}' in place of '{m.concept.name}': a neighbouring "
                      f"{m.concept.category or 'concept'} of the same document, but the chain states this "
                      f"of '{m.concept.name}'")
            edits.append((abs(len(name) - len(surface)), Edit("adjacency", start, m.end, text, reason,
                                                                     (m.concept.key, y.key))))
    return [e for _, e in sorted(edits, key=lambda x: x[0])]


# --- inversion -------------------------------------------------------------------------------------


def _phrase_re(words: Iterable[str]) -> re.Pattern[str] | None:
    alts = sorted(words, key=len, reverse=True)
    if not alts:
        return None
    return re.compile(r"(?<![\w-])(" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in alts) + r")(?![\w-])",
                      re.IGNORECASE)


_VERB_RES = {r: _phrase_re(table) for r, table in R.OPPOSITE_VERBS.items()}
_POLARITY_RE = _phrase_re(R.POLARITY)


def _word_before(sentence: str, at: int) -> str:
    m = re.search(r"([A-Za-z]+)\W*$", sentence[:at])
    return m.group(1).lower() if m else ""


def _flip(sentence: str, m: re.Match[str], table: dict[str, str]) -> tuple[int, int, str, str, str] | None:
    found = " ".join(m.group(1).lower().split())
    opposite = table.get(found)
    if opposite is None:
        return None
    if found in R.VERB_ONLY and _word_before(sentence, m.start()) in _NOT_BEFORE_VERB:
        return None  # "the release of", "a cause of": a noun here
    if found == "more":
        following = re.match(r"\s+([A-Za-z]+)", sentence[m.end():])
        opposite = "fewer" if following and is_plural(following.group(1)) else "less"  # fewer hours, less heat
    replacement = _match_case(m.group(1), opposite)
    start, text = _with_article(sentence, m.start(), m.end(), replacement)
    return start, m.end(), text, found, opposite


def inversion(sentence: str, statements: Sequence[Statement]) -> list[Edit]:
    """The sentence's relations stated the other way round, triples first.

    For a triple (S, r, O) of the sentence whose relation has an opposite, the verb of r between S and
    O (or after S) becomes the verb of the opposite relation. When no triple gives one, direction
    words ("higher", "rises", "before") are turned round instead."""
    edits: list[Edit] = []
    spans: set[tuple[int, int]] = set()
    low = sentence.lower()
    for s in sorted(statements, key=lambda s: (s.relation, s.subject, s.object)):
        pattern = _VERB_RES.get(s.relation)
        if pattern is None:
            continue
        subj_at = low.find(s.subject.lower()) if s.subject else -1
        obj_at = low.find(s.object.lower()) if s.object else -1
        if subj_at < 0 and obj_at < 0:
            continue  # the triple is not stated by this sentence
        ends = sorted(p for p in (subj_at, obj_at) if p >= 0)
        for m in pattern.finditer(sentence):
            if len(ends) == 2 and not ends[0] < m.start() < ends[1]:
                continue  # the verb of this triple sits between its subject and object
            flipped = _flip(sentence, m, R.OPPOSITE_VERBS[s.relation])
            if flipped is None or (flipped[0], flipped[1]) in spans:
                continue
            start, end, text, word, opposite = flipped
            spans.add((start, end))
            edits.append(Edit("inversion", start, end, text,
                              f"states the opposite relation: '{opposite}' where the chain has '{word}' "
                              f"({s.subject} {R.phrase(s.relation)} {s.object})", (word, opposite)))
            break
    if not edits and _POLARITY_RE is not None:
        for m in _POLARITY_RE.finditer(sentence):
            flipped = _flip(sentence, m, R.POLARITY)
            if flipped is None:
                continue
            start, end, text, word, opposite = flipped
            edits.append(Edit("inversion", start, end, text,
                              f"reverses the direction: '{opposite}' where the chain has '{word}'",
                              (word, opposite)))
    return edits
