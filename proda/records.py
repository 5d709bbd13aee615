"""The typed records that flow through the pipeline, one frozen msgspec Struct per kind.

Every record carries ``key`` = xxh3-128 of its kind and its *defining* fields (``IDENTITY``), computed
by :func:`make`. Provenance fields (parents) are carried but, where a node can gain parents from
other documents (concepts), kept out of the identity so an unrelated edit does not rename it.

Data path: Document -> Chunk -> Chain (L3) -> Statement (L2) -> Concept (L1) -> Item / Sample
-> Result -> Diagnosis.
"""

from __future__ import annotations

from typing import Any, ClassVar, TypeVar, Union

import msgspec

from .hashing import digest


class Record(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag=True, gc=False):
    key: str
    IDENTITY: ClassVar[tuple[str, ...]] = ()


R = TypeVar("R", bound=Record)


def identity_key(cls: type[Record], fields: dict[str, Any]) -> str:
    defaults = _DEFAULTS.get(cls, {})
    return digest([cls.__name__, [fields[name] if name in fields else defaults[name] for name in cls.IDENTITY]])


def make(cls: type[R], **fields: Any) -> R:
    """Build a record and give it its content key."""
    return cls(key=identity_key(cls, fields), **fields)


class Span(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """A character range [start, end) in a document's normalised text."""

    start: int
    end: int


# --- corpus ------------------------------------------------------------------------------------


class Document(Record, frozen=True, kw_only=True):
    discipline: str
    path: str  # relative to specs/corpus, posix
    title: str
    text: str  # normalised text; every Span points into it
    source_hash: str  # xxh3-128 of the raw file bytes
    words: int
    IDENTITY: ClassVar = ("discipline", "path", "text")


class Dropped(Record, frozen=True, kw_only=True):
    """A document the ingest stage skipped, and why (never silently lost)."""

    discipline: str
    path: str
    reason: str  # short code: binary, empty, encoding, too_large, unreadable, duplicate, quality, ...
    detail: str
    IDENTITY: ClassVar = ("discipline", "path", "reason")


class MinHash(Record, frozen=True, kw_only=True):
    """A document's near-duplicate signature (64 MinHash values, little-endian uint64), memoised
    with the document by ingest's per-file units and used by its dedup pass; never published."""

    path: str
    signature: bytes
    IDENTITY: ClassVar = ("path", "signature")


class Chunk(Record, frozen=True, kw_only=True):
    doc: str
    discipline: str
    index: int
    span: Span
    text: str
    IDENTITY: ClassVar = ("doc", "index", "text")


# --- knowledge (L3 -> L2 -> L1) ----------------------------------------------------------------


class Step(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    text: str
    span: Span  # in the document


class Chain(Record, frozen=True, kw_only=True):
    """L3: a reasoning chain — a process, its preconditions and ordered steps."""

    chunk: str
    doc: str
    discipline: str
    process: str
    preconditions: list[str]  # premises stated before the process (never a step); may be empty
    steps: list[Step]  # at least 2; the last is the conclusion
    # sentences of the chunk that no chain uses but that define or relate what the chain talks about;
    # its statements may come from them too, so a chunk's definitions become nodes reachable from a chain
    context: list[Step] = msgspec.field(default_factory=list)
    IDENTITY: ClassVar = ("chunk", "process", "preconditions", "steps", "context")


RELATIONS = (
    "causes", "is_a", "part_of", "requires", "increases", "decreases", "defined_as",
    "enables", "prevents", "precedes", "produces", "consists_of", "related_to",
)


class Statement(Record, frozen=True, kw_only=True):
    """L2: a typed triple from a sliding window over adjacent chain steps."""

    chain: str
    chunk: str
    doc: str
    discipline: str
    subject: str
    relation: str  # one of RELATIONS
    object: str
    quote: str  # the source sentence
    span: Span  # of the quote, in the document
    steps: list[int]  # indices of the chain steps the window covered
    IDENTITY: ClassVar = ("chain", "subject", "relation", "object")


class Concept(Record, frozen=True, kw_only=True):
    """L1: a canonical concept of a discipline, harvested from L2 subjects and objects."""

    discipline: str
    name: str  # canonical form
    aliases: list[str]  # surface forms merged into it
    category: str
    definition: str  # text that defines it ("" when the corpus has none: never a mere mention)
    statements: list[str]  # parent statement keys (sorted)
    defined_by: str = ""  # key of the statement whose sentence is the definition ("" when none)
    IDENTITY: ClassVar = ("discipline", "name")


# --- tests and training data -------------------------------------------------------------------


class Option(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    text: str
    # "" for the correct answer; else the operators that made it, joined by "+" in the order
    # adjacency, inversion, truncation ("adjacency", "adjacency+inversion", "inversion+truncation")
    operator: str
    reason: str  # why this distractor is wrong ("" for the answer)


class Item(Record, frozen=True, kw_only=True):
    """A multiple-choice benchmark item built from one L3 chain."""

    discipline: str
    chain: str
    doc: str
    statements: list[str]
    concepts: list[str]
    variant: str  # conclusion | middle
    split: str  # dev | holdout
    stem: str
    options: list[Option]
    answer: int  # index into options
    IDENTITY: ClassVar = ("chain", "variant", "stem", "options", "answer")


class DroppedItem(Record, frozen=True, kw_only=True):
    """A benchmark item the bench stage could not make, and why (never silently lost)."""

    discipline: str
    chain: str
    doc: str
    variant: str  # conclusion | middle
    split: str  # dev | holdout
    reason: str  # no_symmetric_set | options_tell | unbalanceable | shared_sentence
    detail: str
    stem: str
    options: list[Option]  # the closest candidate set, if any was built
    IDENTITY: ClassVar = ("chain", "variant", "reason", "detail", "stem", "options")


class Sample(Record, frozen=True, kw_only=True):
    """A training sample: a prompt and the response the model should learn."""

    discipline: str
    format: str  # open | mcq | tf
    prompt: str
    response: str  # the answer followed by its explanation
    statements: list[str]
    concepts: list[str]
    origin: str  # synth | patch | replay
    source: str  # "" for synth; the patch file name for patch/replay samples
    IDENTITY: ClassVar = ("format", "prompt", "response")


class Result(Record, frozen=True, kw_only=True):
    checkpoint: str
    item: str
    chosen: int
    scores: list[float]  # log-likelihood of each option given the stem
    correct: bool
    # log-likelihood of each option alone, without the stem (lm-eval's unconditional request): what
    # the model prefers when it does not see the question
    unconditional: list[float] = msgspec.field(default_factory=list)
    IDENTITY: ClassVar = ("checkpoint", "item")


class Diagnosis(Record, frozen=True, kw_only=True):
    checkpoint: str
    item: str
    discipline: str
    label: str  # concept_gap | reasoning_deficit | undetermined
    chain: str
    nodes: list[str]  # responsible L1/L2 keys (concept gap) or the chain's statements
    confused_with: str  # the distractor text the model chose
    # the numbers behind the label (probes, base rate, chance, p-values; or the judge's reason)
    evidence: dict[str, Any] = msgspec.field(default_factory=dict)
    IDENTITY: ClassVar = ("checkpoint", "item")


# defaults of identity fields a caller may leave out (a field added later keeps old callers working)
_DEFAULTS: dict[type, dict[str, Any]] = {Chain: {"context": []}}

INTERNAL = (MinHash,)  # kinds kept in the memo for a stage's own use, never published or counted
ANY_RECORD = Union[Document, Dropped, MinHash, Chunk, Chain, Statement, Concept, Item, DroppedItem, Sample, Result,
                   Diagnosis]
KINDS = {cls.__name__.lower(): cls for cls in (Document, Dropped, Chunk, Chain, Statement, Concept,
                                               Item, DroppedItem, Sample, Result, Diagnosis)}
