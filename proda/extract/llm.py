"""LLM-backed knowledge extraction, top-down: L3 chains per chunk, L2 triples per window of steps,
L1 concepts canonicalised from L2 (with an LLM-written definition and category).

Every call goes through :class:`proda.llm.cache.CachedLLM` (DuckDB ``llm_cache``), so a rebuild,
a resumed build or a parser fix replays cached replies instead of calling again. Replies are JSON
validated against the Structs below (one repair round, then the unit fails with
:class:`proda.llm.LLMOutputError`). Nothing the model says is trusted blindly: each step is anchored
to its source passage in the document and becomes that passage (a chain with a step the chunk does
not say is dropped), relations are mapped onto :data:`proda.records.RELATIONS` (unknown ones
skipped), and a triple whose subject or object does not occur in its steps is skipped. A chain left
without statements gets the heuristic extractor's, so every chain keeps at least one.

Run it alone against any OpenAI-compatible server (``vllm serve MODEL``)::

    ex = LLMExtractor.from_config(LLMConfig(backend="openai", model="MODEL"), duckdb.connect())
    chains = ex.chains(chunk, ExtractConfig())
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec

from ..config import ExtractConfig, LLMConfig
from ..hashing import digest
from ..llm import LLM, LLMOutputError, concurrency, get_llm, iter_concurrent, map_concurrent, normalise_params, params_from_config
from ..llm.cache import CachedLLM, LLMCache
from ..llm.prompts import load, render
from ..records import RELATIONS, Chain, Chunk, Concept, Span, Statement, Step, make
from . import nodes
from .segment import segment

__all__ = ["LLMExtractor", "fingerprint", "map_concurrent", "iter_concurrent", "anchor", "map_relation"]

PROMPTS = ("extract_chains.v2", "extract_statements.v2", "define_concept.v2", "repair_json.v1")
MIN_SUPPORT = 0.5  # share of a step's content words its source sentence must contain
DEFINE_CONTEXT = 8  # statements shown when defining a concept
# the node definitions the heuristic implements (nodes.py): one vocabulary, one notion of each node
CATEGORIES = tuple(nodes.CATEGORIES)


# --- reply shapes (every field required: what OpenAI's strict json_schema mode demands) --------


class _Step(msgspec.Struct):
    text: str


class _Chain(msgspec.Struct):
    process: str
    preconditions: list[str]
    steps: list[_Step]


class ChainsReply(msgspec.Struct):
    chains: list[_Chain]


class _Triple(msgspec.Struct):
    subject: str
    relation: str
    object: str
    quote: str


class StatementsReply(msgspec.Struct):
    statements: list[_Triple]


class DefinitionReply(msgspec.Struct):
    category: str
    definition: str


# --- anchoring ---------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_STOP = frozenset("the a an of in on to and or is are was were be been by for with as at from that this "
                  "these those it its which into than then thus so".split())


def _clean(text: str) -> str:
    return " ".join(text.split())


def _words(text: str) -> list[str]:
    return [w[:5] for w in _WORD.findall(text.lower()) if w not in _STOP]  # 5-char stems: cell/cells


def _normalise(text: str) -> tuple[str, list[int]]:
    """Lower-cased text with whitespace runs collapsed, and each character's original offset."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if not chars or chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch.lower())
        where.append(i)
    return "".join(chars), where


def anchor(claim: str, text: str) -> tuple[int, int] | None:
    """Where ``claim`` stands in ``text``: the verbatim passage (case and spacing aside), else the
    sentence holding most of its content words; ``None`` if no sentence holds ``MIN_SUPPORT``."""
    norm, where = _normalise(text)
    needle = _normalise(claim)[0].strip().rstrip(".;:,")
    if len(needle) >= 8 and (at := norm.find(needle)) >= 0:
        return where[at], where[at + len(needle) - 1] + 1
    wanted = set(_words(claim))
    if not wanted:
        return None
    best, best_score = None, 0.0
    for _, start, end in segment(text):  # the heuristic extractor's sentences, for one notion of it
        have = set(_words(text[start:end]))
        recall = len(wanted & have) / len(wanted)
        score = recall + 1e-3 * len(wanted & have) / (len(have) or 1)  # tie-break: the tighter sentence
        if score > best_score:
            best, best_score = (start, end), score
    return best if best_score >= MIN_SUPPORT else None


# --- relations ---------------------------------------------------------------------------------

_RELATION_ALIASES = {
    "cause": "causes", "leads_to": "causes", "results_in": "causes", "triggers": "causes",
    "induces": "causes", "drives": "causes", "causes_by": "causes",
    "is_an": "is_a", "type_of": "is_a", "is_type_of": "is_a", "is_a_type_of": "is_a", "kind_of": "is_a",
    "is_a_kind_of": "is_a", "instance_of": "is_a", "subclass_of": "is_a", "subtype_of": "is_a",
    "is_part_of": "part_of", "component_of": "part_of", "belongs_to": "part_of", "located_in": "part_of",
    "needs": "requires", "depends_on": "requires", "require": "requires", "required_for": "enables",
    "raises": "increases", "enhances": "increases", "promotes": "increases", "increase": "increases",
    "reduces": "decreases", "lowers": "decreases", "inhibits": "decreases", "decrease": "decreases",
    "blocks": "prevents", "stops": "prevents", "prevent": "prevents",
    "allows": "enables", "permits": "enables", "facilitates": "enables", "enable": "enables",
    "before": "precedes", "followed_by": "precedes", "comes_before": "precedes",
    "yields": "produces", "generates": "produces", "creates": "produces", "forms": "produces",
    "releases": "produces", "synthesizes": "produces", "produce": "produces",
    "contains": "consists_of", "composed_of": "consists_of", "made_of": "consists_of",
    "includes": "consists_of", "has_part": "consists_of", "comprises": "consists_of",
    "is_defined_as": "defined_as", "means": "defined_as", "refers_to": "defined_as",
    "associated_with": "related_to", "correlates_with": "related_to", "affects": "related_to",
    "influences": "related_to", "relates_to": "related_to", "is_related_to": "related_to",
}


def map_relation(raw: str) -> str | None:
    """The :data:`RELATIONS` member a model's relation means, or ``None`` (skip the triple)."""
    name = re.sub(r"[^a-z]+", "_", raw.lower()).strip("_")
    if name in RELATIONS:
        return name
    return _RELATION_ALIASES.get(name)


def _phrase(text: str) -> str:
    return _clean(text).strip(" .,;:\"'`")


# --- the extractor -----------------------------------------------------------------------------


def _fingerprint(model: str, params: dict) -> str:
    return digest([model, normalise_params(params), [load(name)[1] for name in PROMPTS]])


def fingerprint(cfg: LLMConfig) -> str:
    """The extract stage's backend fingerprint for ``[llm]`` without loading a model: backend, model
    id, weights/adapter hash (local) or ``llm.revision`` (remote), sampling params, prompt files."""
    return _fingerprint(get_llm(cfg).fingerprint(), params_from_config(cfg))


class LLMExtractor:
    """The Extractor protocol (``chains``, ``statements``, ``concepts``) on an LLM backend.

    ``cache``: an :class:`LLMCache`, an open DuckDB connection (the catalog), or ``None`` (no cache).
    Methods are thread-safe: the engine may call them for many units at once.
    """

    name = "llm"
    version = "1"  # bump when the same replies would give other records (parsing, anchoring)

    def __init__(self, llm: LLM | CachedLLM, cache: LLMCache | Any = None, *,
                 params: dict | None = None, concurrency: int = 1):
        if not isinstance(llm, CachedLLM):
            if cache is not None and not isinstance(cache, LLMCache):
                cache = LLMCache(cache)
            llm = CachedLLM(llm, cache)
        self.llm = llm
        self.params = normalise_params(params or {})
        self.concurrency = concurrency
        self.skipped: dict[str, int] = {"unsupported_chain": 0, "relation": 0, "phrase": 0,
                                        "heuristic_statements": 0}
        self.undefined: list[tuple[str, str]] = []  # (concept, why) whose definition reply was unusable
        self._heuristic: Any = None

    @classmethod
    def from_config(cls, cfg: LLMConfig, con: Any = None) -> "LLMExtractor":
        """The extractor for a resolved ``[llm]`` section, caching in ``con`` (a DuckDB connection)."""
        return cls(get_llm(cfg), con, params=params_from_config(cfg), concurrency=concurrency(cfg))

    def fingerprint(self) -> str:
        """For the extract stage's recipe: model identity, sampling params and prompt wording."""
        return _fingerprint(self.llm.fingerprint(), self.params)

    def close(self) -> None:
        """Close the HTTP client and the cache's cursors (the DuckDB connection stays the caller's)."""
        self.llm.close()
        if self.llm.cache is not None:
            self.llm.cache.close()

    def _skip(self, reason: str) -> None:
        self.skipped[reason] += 1  # a statistic only; a lost increment under threads is harmless

    # L3 ------------------------------------------------------------------------------------------

    def chains(self, chunk: Chunk, cfg: ExtractConfig) -> list[Chain]:
        messages, template = render("extract_chains.v2", discipline=chunk.discipline, text=chunk.text,
                                    min_steps=cfg.min_steps, max_steps=cfg.max_steps,
                                    chain_definition=nodes.CHAIN, precondition_definition=nodes.PRECONDITION)
        reply = self.llm.complete_json(messages, ChainsReply, params=self.params, template=template,
                                       what=f"chain list for chunk {chunk.key[:12]}")
        out: dict[str, Chain] = {}
        for raw in reply.chains:
            texts = [_clean(s.text) for s in raw.steps if _clean(s.text)]
            if len(texts) > cfg.max_steps:  # keep the conclusion
                texts = texts[: cfg.max_steps - 1] + texts[-1:]
            process = _phrase(raw.process)
            if len(texts) < cfg.min_steps or not process:
                continue
            steps = self._anchor_steps(texts, chunk)
            if steps is None:
                self._skip("unsupported_chain")  # a step the chunk does not say: the chain is not its
            elif len(steps) >= cfg.min_steps:
                # a precondition is a premise stated before the steps, never a step again (nodes.PRECONDITION)
                said = [" ".join(_words(s.text)) for s in steps]
                pre = [p for p in map(_clean, raw.preconditions)
                       if p and not any(" ".join(_words(p)) in s or s in " ".join(_words(p)) for s in said)]
                chain = make(Chain, chunk=chunk.key, doc=chunk.doc, discipline=chunk.discipline,
                             process=process, preconditions=pre, steps=steps)
                out.setdefault(chain.key, chain)
        return list(out.values())

    @staticmethod
    def _anchor_steps(texts: list[str], chunk: Chunk) -> list[Step] | None:
        """Each step as its source passage, ``doc.text[span] == step.text`` (the contract); ``None``
        if one is not in the chunk. Steps whose passages overlap are one step, said twice."""
        steps: list[Step] = []
        for text in texts:
            where = anchor(text, chunk.text)
            if where is None:
                return None
            step = Step(text=chunk.text[where[0]:where[1]],
                        span=Span(start=chunk.span.start + where[0], end=chunk.span.start + where[1]))
            if not any(s.span.start < step.span.end and step.span.start < s.span.end for s in steps):
                steps.append(step)
        return steps

    # L2 ------------------------------------------------------------------------------------------

    def statements(self, chain: Chain, cfg: ExtractConfig) -> list[Statement]:
        n, w = len(chain.steps), max(1, cfg.window)
        windows = [list(range(i, min(i + w, n))) for i in range(max(1, n - w + 1))]
        out: dict[str, Statement] = {}
        for window in windows:
            for statement in self._window(chain, window):
                out.setdefault(statement.key, statement)  # first window that states it
        if not out:  # every chain keeps at least one statement (the Extractor contract)
            self._skip("heuristic_statements")
            return self._rules().statements(chain, cfg)
        return list(out.values())

    def _rules(self) -> Any:
        """The heuristic extractor, for what the LLM does not add: canonical names, a fallback triple."""
        if self._heuristic is None:
            from . import get_extractor  # noqa: PLC0415 (lazy: the package imports its backends)

            self._heuristic = get_extractor("heuristic")
        return self._heuristic

    def _window(self, chain: Chain, window: list[int]) -> list[Statement]:
        steps = [chain.steps[i] for i in window]
        messages, template = render(
            "extract_statements.v2", discipline=chain.discipline, process=chain.process,
            steps="\n".join(f"{i + 1}. {_clean(chain.steps[i].text)}" for i in window),
            statement_definition=nodes.STATEMENT, relations=nodes.relation_lines())
        reply = self.llm.complete_json(messages, StatementsReply, params=self.params, template=template,
                                       what=f"statement list for chain {chain.key[:12]}")
        step_words = set(_words(" ".join(s.text for s in steps)))
        out = []
        for triple in reply.statements:
            relation = map_relation(triple.relation)
            if relation is None:
                self._skip("relation")
                continue
            subject, obj = _phrase(triple.subject), _phrase(triple.object)
            if (not subject or not obj or subject.lower() == obj.lower()
                    or not set(_words(subject)) & step_words or not set(_words(obj)) & step_words):
                self._skip("phrase")  # empty, reflexive, or not in the steps it claims to come from
                continue
            source = self._source_step(steps, triple.quote or f"{subject} {obj}")
            out.append(make(Statement, chain=chain.key, chunk=chain.chunk, doc=chain.doc,
                            discipline=chain.discipline, subject=subject, relation=relation, object=obj,
                            quote=source.text, span=source.span, steps=list(window)))
        return out

    @staticmethod
    def _source_step(steps: Sequence[Step], quote: str) -> Step:
        wanted = set(_words(quote))
        return max(steps, key=lambda s: len(wanted & set(_words(s.text))))  # first of equals wins

    # L1 ------------------------------------------------------------------------------------------

    def concepts(self, discipline: str, statements: list[Statement]) -> list[Concept]:
        """Canonical concepts from the heuristic canonicaliser, then defined by the LLM."""
        # The canonicaliser (lexical variants merged, parent statements kept) is the heuristic
        # extractor's; only the definition and the category come from the LLM.
        base = self._rules().concepts(discipline, statements)
        by_key = {s.key: s for s in statements}
        return map_concurrent(lambda c: self._define(c, by_key), base, self.concurrency)

    def _define(self, concept: Concept, by_key: dict[str, Statement]) -> Concept:
        context = [by_key[k] for k in sorted(concept.statements) if k in by_key][:DEFINE_CONTEXT]
        messages, template = render(
            "define_concept.v2", discipline=concept.discipline, name=concept.name,
            aliases=", ".join(a for a in concept.aliases if a != concept.name) or "-",
            definition_rule=nodes.DEFINITION, categories=nodes.category_lines(),
            statements="\n".join(f"- {s.subject} {s.relation.replace('_', ' ')} {s.object}: {_clean(s.quote)}"
                                 for s in context))
        try:
            reply = self.llm.complete_json(messages, DefinitionReply, params=self.params, template=template,
                                           what=f"definition of {concept.name!r}")
        except LLMOutputError as exc:
            # one bad reply must not fail the discipline: the concept keeps the canonicaliser's
            # definition and category, and the stage reports it skipped (the shard stays stale,
            # so the next build asks again)
            self.undefined.append((concept.name, str(exc)))
            return concept
        category = _phrase(reply.category).lower()
        category = category if category in CATEGORIES else concept.category  # one vocabulary for all
        definition = _clean(reply.definition) or concept.definition  # "": the statements only mention it
        # name and discipline are the identity: a new definition does not rename the concept
        defined_by = concept.defined_by if definition == concept.definition else ""  # the model's own words
        return msgspec.structs.replace(concept, category=category, definition=definition, defined_by=defined_by)
