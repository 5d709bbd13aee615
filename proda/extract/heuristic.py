"""The ``heuristic`` extractor: offline, deterministic L3 -> L2 -> L1 extraction by rules.

- L3 ``chains``: a chunk's prose sentences are cut into runs of ``min_steps``..``max_steps``
  consecutive sentences. Where to cut is a small dynamic programme: a link between two adjacent
  sentences scores high when the second opens with a consequence ("Therefore", "As a result"), a
  sequence ("Then", "Finally") or an anaphor ("This", "It"), or shares content words with the first,
  and low across paragraphs; every chain earns a bonus, so a chunk splits at its weakest links into
  several short chains. A chunk with a single causal sentence ("X because Y") gets a two-clause chain.
- L2 ``statements``: relation patterns (``relations.py``) over each window of ``window`` adjacent
  steps, plus discourse links between them; ``related_to`` between two noun phrases of the window is
  the fallback when nothing typed matches, so no chain is left without statements.
- L1 ``concepts``: statement subjects and objects (not ``defined_as`` descriptions), canonicalised
  (``canon.py``); "long form (SHORT)" pairs seen in the quotes merge the two.

Pure functions of their inputs: no I/O, no randomness; outputs are in text order or sorted.
Run alone: ``python -m proda.extract.heuristic FILE...`` prints the chains of each file.
Speed: about 2.5 s of CPU per MB of textbook prose on one core, segmentation included (OpenStax
sample, 1200-character chunks); the tests hold it under the 10 s/MB budget.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..config import ExtractConfig
from ..records import Chain, Chunk, Concept, Span, Statement, Step, make
from . import canon as C
from . import phrases as P
from . import relations as R
from .segment import Sentence, sentences

_CONSEQUENCE = re.compile(r"(?:therefore|thus|so|hence|consequently|accordingly|as\s+a\s+(?:result|consequence)"
                          r"|because\s+of\s+(?:this|that)|for\s+this\s+reason|this\s+(?:means|is\s+why|leads|causes"
                          r"|results|explains|implies)|in\s+turn|it\s+follows)\b", re.IGNORECASE)
_SEQUENCE = re.compile(r"(?:then|next|finally|lastly|second(?:ly)?|third(?:ly)?|after\s+(?:that|this)|afterwards?"
                       r"|subsequently|eventually|later|once\s+this|at\s+this\s+point)\b", re.IGNORECASE)
_ANAPHOR = re.compile(r"(?:this|these|that|those|it|they|such|its|their|here|the\s+(?:latter|former|result)"
                      r"|in\s+other\s+words|that\s+is|for\s+(?:example|instance)|in\s+(?:this|that)\s+way"
                      r"|similarly|likewise|in\s+addition|moreover|furthermore|also)\b", re.IGNORECASE)
_CONTRAST = re.compile(r"(?:however|but|in\s+contrast|on\s+the\s+other\s+hand|nevertheless|yet|although)\b",
                       re.IGNORECASE)
_CAUSAL = re.compile(r"\b(?:because|since|therefore|thus|so\s+that|hence|consequently|causes?|caused|leads?\s+to"
                     r"|led\s+to|results?\s+in|due\s+to|if|when|then|which\s+means|produces?|requires?|allows?"
                     r"|enables?|prevents?|increases?|decreases?|reduces?)\b", re.IGNORECASE)
_CONDITION = re.compile(r"\b(?:if|when|whenever|given(?:\s+that)?|suppose|supposing|assuming(?:\s+that)?|assume"
                        r"|provided(?:\s+that)?|as\s+long\s+as|unless|only\s+if|once)\s+[^,;:.!?()]+",
                        re.IGNORECASE)
_PREMISE = re.compile(r"(?:suppose|assume|let\s+us\s+(?:assume|suppose|consider)|consider|imagine|given)\b",
                      re.IGNORECASE)
_CLAUSE_SPLIT = [  # (pattern, cause group, effect group) for a single causal sentence
    (re.compile(r"^(?P<e>.+?),?\s+because\s+(?P<c>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^because\s+(?P<c>[^,]+),\s*(?P<e>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?:if|when|whenever|once)\s+(?P<c>[^,]+),\s*(?:then\s+)?(?P<e>.+)$", re.IGNORECASE | re.DOTALL),
     "c", "e"),
    (re.compile(r"^(?P<c>.+?)[,;]\s*(?:and\s+)?(?:so|therefore|thus|hence|consequently|which\s+(?:causes|means|leads"
                r"|results))\b,?\s*(?P<e>.+)$", re.IGNORECASE | re.DOTALL), "c", "e"),
    (re.compile(r"^(?P<c>[^:;]+)[:;]\s*(?P<e>.+)$", re.DOTALL), "c", "e"),  # a premise and what it says
]
_NONPROSE_CHARS = set("=<>{}|\\^_~#@$")
_HEX = re.compile(r"\b[0-9a-f]{16,}\b|https?://")
_CHAIN_BONUS = 1.2
_LETTERS = re.compile(r"[^\W\d_]{2}")
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)]|\(?[a-zA-Z]\))\s")
_TERMINAL = re.compile(r"[.!:;]['\"”’)\]]*$")


class _Unit:
    __slots__ = ("sentence", "stems", "causal")

    def __init__(self, sentence: Sentence):
        self.sentence = sentence
        self.stems = P.content_stems(sentence.text)
        self.causal = bool(_CAUSAL.search(sentence.text))


def _is_prose(text: str) -> bool:
    """A sentence a chain can use: enough real words, no code/equation/metadata noise, not a question."""
    words = text.split()
    if len(words) < 4 or text.rstrip().endswith(("?", ",")) or _HEX.search(text) or text[0].islower():
        return False
    if not _LIST_ITEM.match(text) and not _TERMINAL.search(text):
        return False  # a lead-in to an equation: "Substituting the notation yields"
    alpha = sum(1 for w in words if _LETTERS.search(w))
    noise = sum(1 for c in text if c in _NONPROSE_CHARS)
    return alpha >= 0.7 * len(words) and noise <= 2 and any(c.islower() for c in text)


def _link(prev: _Unit, cur: _Unit) -> float | None:
    """How strongly ``cur`` continues ``prev``; None: never in one chain (a new section)."""
    a, b = prev.sentence, cur.sentence
    if a.heading != b.heading:
        return None
    if b.block == a.block:
        weight = 0.4
    elif b.block - a.block <= 2 and a.text.rstrip().endswith(":"):
        weight = 1.2  # an introduction and the list or equation it announces
    else:
        weight = -1.0
    text = b.text
    if _CONSEQUENCE.match(text):
        weight += 2.5
    elif _SEQUENCE.match(text):
        weight += 1.5
    elif _ANAPHOR.match(text):
        weight += 1.2
    elif _CONTRAST.match(text):
        weight -= 0.2
    return weight + 0.5 * min(3, len(prev.stems & cur.stems))


def _segment_score(units: Sequence[_Unit], links: Sequence[float | None], i: int, j: int) -> float | None:
    inner = links[i + 1:j]
    if any(w is None for w in inner):
        return None
    score = _CHAIN_BONUS + sum(inner)  # type: ignore[arg-type]
    last = units[j - 1].sentence.text
    if _CONSEQUENCE.match(last):
        score += 1.0
    if last.rstrip().endswith(":"):
        score -= 2.0  # an announcement is no conclusion
    if any(u.causal for u in units[i:j]):
        score += 0.5
    return score


def _plan(units: Sequence[_Unit], lo: int, hi: int) -> list[tuple[int, int]]:
    """Best non-overlapping runs ``[i, j)`` of ``lo``..``hi`` units (dynamic programme, ties to the left)."""
    n = len(units)
    links: list[float | None] = [None] + [_link(units[k - 1], units[k]) for k in range(1, n)]
    best = [0.0] * (n + 1)
    choice: list[tuple[int, int] | None] = [None] * (n + 1)
    for j in range(1, n + 1):
        best[j], choice[j] = best[j - 1], None
        for length in range(lo, hi + 1):
            i = j - length
            if i < 0:
                break
            score = _segment_score(units, links, i, j)
            if score is not None and best[i] + score > best[j] + 1e-9:
                best[j], choice[j] = best[i] + score, (i, j)
    runs, j = [], n
    while j > 0:
        if choice[j] is None:
            j -= 1
        else:
            runs.append(choice[j])
            j = choice[j][0]
    return runs[::-1]


def _clause_steps(s: Sentence) -> list[tuple[str, int, int]]:
    """Two steps (cause, effect) from one sentence with an internal causal connective."""
    body = s.text.rstrip(" .!")
    for pattern, cause, effect in _CLAUSE_SPLIT:
        m = pattern.match(body)
        if m and len(m.group(cause).split()) >= 3 and len(m.group(effect).split()) >= 3:
            return [(m.group(g), s.start + m.start(g), s.start + m.end(g)) for g in (cause, effect)]
    return []


_META = frozenset("section sections chapter figure table example text book discussion module unit".split())


def _process(steps: Sequence[str], heading: str) -> str:
    first = R.clause_subject(steps[0])
    if first and first.lower() not in P.GENERIC and not _META & set(first.lower().split()):
        return first
    title = re.sub(r"^[\d.\s]+", "", heading).strip(" .:")
    if title:
        return title
    for text in steps[1:]:
        subj = R.clause_subject(text)
        if subj:
            return subj
    return " ".join(w.strip(".,;:") for w in steps[0].split()[:P.MAX_WORDS])


def _preconditions(steps: Sequence[str]) -> list[str]:
    found: list[str] = []
    for text in steps:
        if _PREMISE.match(text):
            found.append(text)
            continue
        for m in _CONDITION.finditer(text):
            clause = m.group().strip()
            if len(clause.split()) >= 3 and clause not in found:
                found.append(clause)
    return found[:3] or [steps[0]]


def _noun_phrases(text: str) -> list[str]:
    """Noun-phrase-like runs of a sentence, for the ``related_to`` fallback."""
    blank = P.blank_brackets(text)
    out, run, prev = [], [], None
    toks = P.tokens(blank)
    toks = (*toks[P.skip_opener(toks):], P.Tok(".", ".", len(blank), len(blank), False))
    for j, t in enumerate(toks):
        nxt = toks[j + 1].low if j + 1 < len(toks) else None
        stop = (not t.word or t.low in P.STOP - P.DETERMINERS or P.is_verb(t.low, prev, nxt) or P.is_adverb(t.low)
                or (not run and (t.low.endswith(("ing", "ed")) and len(t.low) > 5 or t.low in P.VERB_FORMS)))
        if stop:
            np = P.clean(run, blank) if run else ""
            low = np.lower()
            if R.usable(np) and not any(low in o.lower() or o.lower() in low for o in out):
                out.append(np)
            run = []
        elif run and t.low in P.NP_OPENERS and run[-1].low not in P.STOP:
            run = run[:-1]  # "phospholipids compose the cell": the word before a determiner was a verb
            np = P.clean(run, blank) if run else ""
            low = np.lower()
            if R.usable(np) and not any(low in o.lower() or o.lower() in low for o in out):
                out.append(np)
            run = [t]
        else:
            run.append(t)
        prev = t.low
    return out


VERSION = 1  # this extractor's output version; bump proda.stages.extract.Extract.version with it


class HeuristicExtractor:
    """Rule-based extraction; the offline default and the reference for the LLM-backed extractors."""

    name = "heuristic"
    version = str(VERSION)

    # --- L3 ----------------------------------------------------------------------------------------
    def chains(self, chunk: Chunk, cfg: ExtractConfig) -> list[Chain]:
        lo, hi = max(2, cfg.min_steps), max(2, cfg.min_steps, cfg.max_steps)
        units = [_Unit(s) for s in sentences(chunk.text) if _is_prose(s.text)]
        def run_of(part: Sequence[_Unit]) -> tuple[str, list[tuple[str, int, int]]]:
            return part[0].sentence.heading, [(u.sentence.text, u.sentence.start, u.sentence.end) for u in part]

        spans = [run_of(units[i:j]) for i, j in _plan(units, lo, hi)]
        if not spans and len(units) >= lo:  # weakly linked prose: the best-linked window anyway
            window = max(range(len(units) - lo + 1), key=lambda i: (
                sum(len(units[k].stems & units[k + 1].stems) for k in range(i, i + lo - 1)), -i))
            spans = [run_of(units[window:window + lo])]
        if not spans:
            spans = [(u.sentence.heading, steps) for u in units for steps in [_clause_steps(u.sentence)] if steps][:1]
        chains, seen = [], set()
        for heading, run in spans:
            texts = [text for text, _, _ in run]
            steps = [Step(text=text, span=Span(start=chunk.span.start + s, end=chunk.span.start + e))
                     for text, s, e in run]
            chain = make(Chain, chunk=chunk.key, doc=chunk.doc, discipline=chunk.discipline,
                         process=_process(texts, heading), preconditions=_preconditions(texts), steps=steps)
            if chain.key not in seen:
                seen.add(chain.key)
                chains.append(chain)
        return chains

    # --- L2 ----------------------------------------------------------------------------------------
    def statements(self, chain: Chain, cfg: ExtractConfig) -> list[Statement]:
        steps = chain.steps
        n, width = len(steps), max(1, cfg.window)
        context, subjects = "", []
        for step in steps:  # each step's subject, "it"/"this" resolved to the one before
            subj = R.clause_subject(step.text, context)
            subjects.append(subj)
            context = subj or context
        contexts = [""] + [s or "" for s in subjects[:-1]]
        own = [R.sentence_triples(step.text, contexts[k]) for k, step in enumerate(steps)]
        out: list[Statement] = []
        seen: set[str] = set()

        def add(triple: R.Triple, at: int, window: list[int]) -> None:
            step = steps[at]
            st = make(Statement, chain=chain.key, chunk=chain.chunk, doc=chain.doc, discipline=chain.discipline,
                      subject=triple.subject, relation=triple.relation, object=triple.object,
                      quote=step.text, span=step.span, steps=window)
            if st.key not in seen:
                seen.add(st.key)
                out.append(st)

        for first in range(max(1, n - width + 1)):
            window = list(range(first, min(n, first + width)))
            found: list[tuple[R.Triple, int]] = []
            for k in window:
                found += [(t, k) for t in own[k]]
            for a, b in zip(window, window[1:]):
                found += [(t, b) for t in R.link_triples(steps[a].text, steps[b].text, contexts[b])]
            if not found:
                found = self._fallback(window, steps, subjects)
            for triple, at in found:
                add(triple, at, window)
        if not out:  # guaranteed: the process and a noun phrase of the chain (its conclusion's first)
            process = chain.process.lower()
            candidates = [np for k in range(n - 1, -1, -1) for np in _noun_phrases(steps[k].text)
                          if np.lower() not in process and process not in np.lower()]
            words = candidates[0] if candidates else " ".join(
                w.strip(".,;:!?") for w in steps[-1].text.split()[:P.MAX_WORDS])
            add(R.Triple(chain.process, "related_to", words), n - 1, list(range(max(0, n - width), n)))
        return out

    @staticmethod
    def _fallback(window: list[int], steps: Sequence[Step], subjects: Sequence[str]) -> list[tuple[R.Triple, int]]:
        for k in window:
            nps = _noun_phrases(steps[k].text)
            subj = subjects[k].lower()
            if subj:
                nps = [subjects[k]] + [x for x in nps if subj not in x.lower() and x.lower() not in subj]
            if len(nps) >= 2:
                return [(R.Triple(nps[0], "related_to", nps[1]), k)]
        names = [s for s in (subjects[k] for k in window) if s]
        for other in names[1:]:
            if other.lower() not in names[0].lower() and names[0].lower() not in other.lower():
                return [(R.Triple(names[0], "related_to", other), window[-1])]
        return []

    # --- L1 ----------------------------------------------------------------------------------------
    def concepts(self, discipline: str, statements: list[Statement]) -> list[Concept]:
        ordered = sorted((s for s in statements if s.discipline == discipline), key=lambda s: s.key)
        short_to_long: dict[str, str] = {}
        for st in ordered:
            for short, long in C.abbreviations(st.quote).items():
                short_to_long.setdefault(short, long)
        groups: dict[str, tuple[set[str], set[str], list[tuple[int, str, str]]]] = {}
        for st in ordered:
            roles = [(st.subject, True)] + ([] if st.relation == "defined_as" else [(st.object, False)])
            for surface, is_subject in roles:
                name = C.canonical(surface)
                name = short_to_long.get(name, name)
                if not name:
                    continue
                aliases, parents, definitions = groups.setdefault(name, (set(), set(), []))
                aliases.add(surface)
                parents.add(st.key)
                if is_subject and st.relation in ("defined_as", "is_a"):
                    definitions.append((0 if st.relation == "defined_as" else 1, st.key, st.quote))
        by_key = {st.key: st for st in ordered}
        out = []
        for name in sorted(groups):
            aliases, parents, definitions = groups[name]
            parent_keys = sorted(parents)
            definition = min(definitions)[2] if definitions else by_key[parent_keys[0]].quote
            out.append(make(Concept, discipline=discipline, name=name, aliases=sorted(aliases),
                            category=C.category(name), definition=definition, statements=parent_keys))
        return out


def _main(paths: Sequence[str]) -> None:  # pragma: no cover - a manual look at the output
    from ..records import Document

    extractor, cfg = HeuristicExtractor(), ExtractConfig()
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        doc = make(Document, discipline="demo", path=path, title=path, text=text, source_hash="", words=0)
        chunk = make(Chunk, doc=doc.key, discipline="demo", index=0, span=Span(start=0, end=len(text)), text=text)
        for chain in extractor.chains(chunk, cfg):
            print(f"\n## {chain.process}  | if: {chain.preconditions}")
            for i, step in enumerate(chain.steps):
                print(f"  {i}. {step.text}")
            for st in extractor.statements(chain, cfg):
                print(f"     - ({st.subject}) -[{st.relation}]-> ({st.object})  steps={st.steps}")


if __name__ == "__main__":  # pragma: no cover
    import sys

    _main(sys.argv[1:])
