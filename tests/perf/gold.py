"""The hand-annotated extraction gold set (``tests/data/gold/*.json``) and how predictions are matched.

A gold file names an OpenStax passage by ``file`` (under the shared corpus) and ``span`` (character
offsets into the text after proda's ingest normalisation), and annotates it with what a careful reader
finds there: reasoning ``chains`` (step spans, precondition spans), typed ``triples`` (short noun
phrases, ``|`` between acceptable alternatives, a relation or ``|``-separated acceptable relations) and
``definitions`` (the term and the span that defines it, with a category). ``optional`` marks what a
reader would accept but not demand: a prediction matching it is right, missing it costs no recall.
See ``tests/data/gold/README.md`` for the annotation guide.

Matching (pure functions, no proda imports, so the scorer does not lean on the code it measures):

- a predicted step matches a gold step when their spans share at least half of the shorter one;
  a predicted chain is scored against the gold chain of its passage whose steps it covers most, and
  only when it covers at least two of them (one shared sentence is not a shared inference);
- a phrase matches a gold alternative when both reduce (lower case, no determiners, singular) to the
  same words, or one's words contain the other's with the same head word and at most three extra
  words; a ``defined_as`` object matches a description when most words of each are in the other;
- a definition is right when the concept's name or alias matches a gold term and its text sits on
  (or, for generated text, mostly shares the words of) that term's defining span.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

GOLD = Path(__file__).resolve().parents[1] / "data" / "gold"

_DETERMINERS = frozenset("""a an the this that these those its their his her our your my some any each every
    all both many much most several such other another no certain various own one two three four""".split())
_PREPOSITIONS = frozenset("of in on at by for with from to into over under between among through during "
                          "within about across against toward towards upon via per than like as".split())
_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


@dataclass
class Passage:
    id: str
    split: str
    file: str
    span: tuple[int, int]
    sha256: str
    chains: list[dict] = field(default_factory=list)
    triples: list[dict] = field(default_factory=list)
    definitions: list[dict] = field(default_factory=list)

    @property
    def discipline(self) -> str:
        return self.file.split("/", 1)[0]


def load(folder: Path = GOLD) -> list[Passage]:
    out = []
    for path in sorted(folder.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        raw["span"] = tuple(raw["span"])
        out.append(Passage(**raw))
    return out


def check_text(passage: Passage, text: str) -> str:
    """The passage's text, after checking it is the text that was annotated."""
    body = text[passage.span[0]:passage.span[1]]
    if hashlib.sha256(body.encode()).hexdigest()[:16] != passage.sha256:
        raise SystemExit(f"{passage.id}: {passage.file} changed since it was annotated (hash mismatch)")
    return body


# --- spans -------------------------------------------------------------------------------------


def overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    shared = min(a[1], b[1]) - max(a[0], b[0])
    return shared > 0 and shared >= 0.5 * min(a[1] - a[0], b[1] - b[0])


def chain_scores(predicted: list[list[tuple[int, int]]], gold: list[list[tuple[int, int]]]
                 ) -> tuple[int, int, int, int]:
    """(right predicted steps, predicted steps, recalled gold steps, gold steps) for one passage."""
    right = 0
    for steps in predicted:
        best: set[int] = set()
        best_chain: list[tuple[int, int]] = []
        for g in gold:
            covered = {j for j, gs in enumerate(g) if any(overlaps(p, gs) for p in steps)}
            if len(covered) > len(best):
                best, best_chain = covered, g
        if len(best) >= 2:
            right += sum(1 for p in steps if any(overlaps(p, gs) for gs in best_chain))
    recalled = 0
    for g in gold:
        most = 0
        for steps in predicted:
            covered = sum(1 for gs in g if any(overlaps(p, gs) for p in steps))
            most = max(most, covered if covered >= 2 else 0)
        recalled += most
    return right, sum(map(len, predicted)), recalled, sum(map(len, gold))


# --- phrases -----------------------------------------------------------------------------------


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def words(phrase: str) -> list[str]:
    text = unicodedata.normalize("NFKC", phrase).lower().replace("’", "'")
    out = [_singular(w) for w in _WORD.findall(text)]
    while out and out[0] in _DETERMINERS:
        out = out[1:]
    return [w for w in out if w not in _DETERMINERS] or out


def _head(ws: list[str]) -> str:
    for i, w in enumerate(ws):
        if i and w in _PREPOSITIONS:
            return ws[i - 1]
    return ws[-1] if ws else ""


def phrase_match(predicted: str, gold: str) -> bool:
    p = words(predicted)
    if not p:
        return False
    for alt in gold.split("|"):
        g = words(alt)
        if not g:
            continue
        if p == g:
            return True
        small, large = (set(p), set(g)) if len(p) <= len(g) else (set(g), set(p))
        if _head(p) == _head(g) and small <= large and len(large) - len(small) <= 3:
            return True
    return False


def description_match(predicted: str, gold: str) -> bool:
    p = set(words(predicted))
    if not p:
        return False
    for alt in gold.split("|"):
        g = set(words(alt))
        if g and len(p & g) >= 0.6 * len(p) and len(p & g) >= 0.5 * len(g):
            return True
    return phrase_match(predicted, gold)


def triple_match(subject: str, relation: str, obj: str, gold: dict) -> bool:
    if relation not in gold["relation"].split("|"):
        return False
    if not phrase_match(subject, gold["subject"]):
        return False
    if relation == "defined_as":
        return description_match(obj, gold["object"])
    return phrase_match(obj, gold["object"])


def definition_span(definition: str, text: str, passage_span: tuple[int, int]) -> tuple[int, int] | None:
    """Where a concept's definition stands in the document, if it is quoted from this passage."""
    at = text.find(definition, passage_span[0], passage_span[1])
    if at < 0:
        stripped = definition.strip().rstrip(".")
        at = text.find(stripped, passage_span[0], passage_span[1]) if len(stripped) >= 8 else -1
        return (at, at + len(stripped)) if at >= 0 else None
    return at, at + len(definition)


def definition_right(names: list[str], definition: str, where: tuple[int, int] | None, gold: dict,
                     text: str) -> bool:
    if not any(phrase_match(n, gold["term"]) for n in names):
        return False
    at = tuple(gold["at"])
    if where is not None:
        return overlaps(where, at) or (where[0] >= at[0] and where[1] <= at[1])
    g, d = set(words(text[at[0]:at[1]])), set(words(definition))  # generated text (an LLM's)
    return bool(d) and len(d & g) >= 0.6 * len(d)


def defines(term: str, quote_span: tuple[int, int], gold: dict) -> bool:
    """Whether a ``defined_as`` statement about ``term`` quoting ``quote_span`` is that gold definition."""
    return phrase_match(term, gold["term"]) and overlaps(quote_span, tuple(gold["at"]))
