"""The ``heuristic`` extractor: offline, deterministic L3 -> L2 -> L1 extraction by rules, implementing
the node definitions of ``nodes.py`` (the LLM prompts quote the same definitions).

- L3 ``chains``: runs of a chunk's prose sentences joined by inferential links — connectives, causal
  continuations, numbered procedures — or one sentence's linked clauses ("X, so Y", "Y because X");
  see ``discourse.py``. Unlinked sentences, such as a list of definitions, form no chain. Preconditions
  are premises stated before the steps, never a step. The chunk's other sentences that state a
  relation or a definition become the ``context`` of the nearest chain.
- L2 ``statements``: typed triples (``relations.py``) from each window of ``window`` adjacent steps,
  typed links between consecutive steps that both state a change ("X rises. Therefore, Y falls"), and
  the triples of the chain's context sentences (``steps`` empty). Nothing is invented when nothing
  matches: no ``related_to`` fallback, so a chain may have no statement.
- L1 ``concepts``: statement subjects and objects (not ``defined_as`` descriptions), canonicalised
  (``canon.py``); "long form (SHORT)" pairs merge. A concept's definition is the sentence of a
  ``defined_as`` statement about it ("X is a Y that ...", "... called X", an appositive), or "" —
  never a sentence that only mentions it; its category comes from the defining head noun.

Pure functions of their inputs: no I/O, no randomness; outputs are in text order or sorted.
Run alone: ``python -m proda.extract.heuristic FILE...`` prints the chains of each file.
Speed: see ``tests/perf/extract_quality.py`` (documents per CPU-second over the OpenStax sample).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from ..config import ExtractConfig
from ..records import Chain, Chunk, Concept, Span, Statement, Step, make
from . import canon as C
from . import discourse as D
from . import phrases as P
from . import relations as R
from .segment import Sentence, sentences

_NONPROSE_CHARS = set("=<>{}|\\^_~#@$")
_HEX = re.compile(r"\b[0-9a-f]{16,}\b|https?://")
_LETTERS = re.compile(r"[^\W\d_]{2}")
_LIST_ITEM = re.compile(r"^(?:[-*+•]|\d{1,3}[.)]|\(?[a-zA-Z]\))\s")
_TERMINAL = re.compile(r"[.!:;]['\"”’)\]]*$")
_STATES = re.compile(r"\b(?:is|are|called|known\s+as|refers?\s+to|defined|means|such\s+as|including|consists?"
                     r"|contains?|causes?|caused|leads?\s+to|led\s+to|results?\s+in|produces?|produced|requires?"
                     r"|increases?|decreases?|reduces?|prevents?|enables?|allows?|part\s+of|due\s+to)\b|,\s+(?:an?|the|or)\s",
                     re.IGNORECASE)
_META = frozenset("section sections chapter figure table example text book discussion module unit".split())


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


def _context(units: Sequence[Sentence], runs: Sequence[D.Run]) -> list[list[Sentence]]:
    """For each run, the chunk's unused sentences that state something, each given to its nearest run."""
    used = {k for run in runs for k in run.units}
    out: list[list[Sentence]] = [[] for _ in runs]
    if not runs:
        return out
    starts = [run.units[0] for run in runs]  # runs are in text order and do not overlap
    for k, unit in enumerate(units):
        if k in used or not _STATES.search(unit.text):
            continue
        after = bisect.bisect_right(starts, k)  # the first run that starts after k
        before = after - 1
        if before < 0:
            nearest = after
        elif after >= len(runs):
            nearest = before
        else:
            nearest = before if k - runs[before].units[-1] <= runs[after].units[0] - k else after
        out[nearest].append(unit)
    return out


def _category_of(description: str) -> str:
    """The category of a defining phrase, from its head noun ("protein that speeds up ..." -> protein)."""
    head = P.head_object(description) or description
    return C.category(C.canonical(head))


VERSION = 4  # this extractor's output version; bump proda.stages.extract.Extract.version with it


class HeuristicExtractor:
    """Rule-based extraction; the offline default and the reference for the LLM-backed extractors."""

    name = "heuristic"
    version = str(VERSION)

    # --- L3 ----------------------------------------------------------------------------------------
    def chains(self, chunk: Chunk, cfg: ExtractConfig) -> list[Chain]:
        lo, hi = max(2, cfg.min_steps), max(2, cfg.min_steps, cfg.max_steps)
        units, after_gap, skipped = [], set(), False
        for s in sentences(chunk.text):
            if not _is_prose(s.text):
                skipped = True  # an equation, a label ("Solution"), a question: what follows it refers to it
                continue
            if skipped and units and not units[-1].text.rstrip().endswith(":"):
                after_gap.add(len(units))  # ("... yields:" [equation] "The fraction is 0.138." still follows)
            units.append(s)
            skipped = False
        runs = D.chains(units, lo, hi, after_gap)
        contexts = _context(units, runs)
        base = chunk.span.start

        def step(text: str, start: int, end: int) -> Step:
            return Step(text=text, span=Span(start=base + start, end=base + end))

        chains, seen = [], set()
        for run, context in zip(runs, contexts):
            texts = [s.text for s in run.steps]
            chain = make(Chain, chunk=chunk.key, doc=chunk.doc, discipline=chunk.discipline,
                         process=_process(texts, units[run.units[0]].heading),
                         preconditions=[p.text for p in run.preconditions],
                         steps=[step(*s) for s in run.steps],
                         context=[step(u.text, u.start, u.end) for u in context])
            if chain.key not in seen:
                seen.add(chain.key)
                chains.append(chain)
        return chains

    # --- L2 ----------------------------------------------------------------------------------------
    def statements(self, chain: Chain, cfg: ExtractConfig) -> list[Statement]:
        steps = chain.steps
        n, width = len(steps), max(1, cfg.window)
        context, subjects = "", []
        for s in steps:  # each step's subject, "it"/"this" resolved to the one before
            subj = R.clause_subject(s.text, context)
            subjects.append(subj)
            context = subj or context
        contexts = [""] + [x or "" for x in subjects[:-1]]
        own = [R.sentence_triples(s.text, contexts[k]) for k, s in enumerate(steps)]
        out: list[Statement] = []
        seen: set[str] = set()

        def add(triple: R.Triple, source: Step, window: list[int]) -> None:
            st = make(Statement, chain=chain.key, chunk=chain.chunk, doc=chain.doc, discipline=chain.discipline,
                      subject=triple.subject, relation=triple.relation, object=triple.object,
                      quote=source.text, span=source.span, steps=window)
            if st.key not in seen:
                seen.add(st.key)
                out.append(st)

        for first in range(max(1, n - width + 1)):
            window = list(range(first, min(n, first + width)))
            for k in window:
                for triple in own[k]:
                    add(triple, steps[k], window)
            for a, b in zip(window, window[1:]):
                for triple in R.link_triples(steps[a].text, steps[b].text, contexts[b]):
                    add(triple, steps[b], window)
        for sentence in chain.context:
            for triple in R.sentence_triples(sentence.text):
                add(triple, sentence, [])
        return out

    # --- L1 ----------------------------------------------------------------------------------------
    def concepts(self, discipline: str, statements: list[Statement]) -> list[Concept]:
        ordered = sorted((s for s in statements if s.discipline == discipline), key=lambda s: s.key)
        short_to_long: dict[str, str] = {}
        for st in ordered:
            for short, long in C.abbreviations(st.quote).items():
                short_to_long.setdefault(short, long)

        def name_of(surface: str) -> str:
            name = C.canonical(surface)
            return short_to_long.get(name, name)

        groups: dict[str, tuple[set[str], set[str]]] = {}
        definitions: dict[str, list[tuple[str, Statement]]] = {}
        classes: dict[str, list[tuple[str, str]]] = {}
        for st in ordered:
            roles = [(st.subject, True)] + ([] if st.relation == "defined_as" else [(st.object, False)])
            for surface, is_subject in roles:
                name = name_of(surface)
                if not name:
                    continue
                aliases, parents = groups.setdefault(name, (set(), set()))
                aliases.add(surface)
                parents.add(st.key)
                if is_subject and st.relation == "defined_as":
                    definitions.setdefault(name, []).append((st.key, st))
                elif is_subject and st.relation == "is_a":
                    classes.setdefault(name, []).append((st.key, st.object))
        out = []
        for name in sorted(groups):
            aliases, parents = groups[name]
            defined = min(definitions.get(name, []), default=None, key=lambda d: d[0])
            if defined is not None:
                statement = defined[1]
                category = _category_of(statement.object)
                if category == "entity" and name in classes:
                    category = _category_of(min(classes[name])[1])
                definition, defined_by = statement.quote, statement.key
            else:
                category = _category_of(min(classes[name])[1]) if name in classes else "entity"
                definition, defined_by = "", ""
            if category == "entity":
                category = C.category(name)
            out.append(make(Concept, discipline=discipline, name=name, aliases=sorted(aliases), category=category,
                            definition=definition, statements=sorted(parents), defined_by=defined_by))
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
            print(f"\n## {chain.process}  | given: {chain.preconditions}")
            for i, step in enumerate(chain.steps):
                print(f"  {i}. {step.text}")
            for st in extractor.statements(chain, cfg):
                print(f"     - ({st.subject}) -[{st.relation}]-> ({st.object})  steps={st.steps}")


if __name__ == "__main__":  # pragma: no cover
    import sys

    _main(sys.argv[1:])
