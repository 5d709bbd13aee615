"""Knowledge extraction, top-down: L3 chains from a chunk, L2 statements from a chain, L1 concepts
from a discipline's statements.

The build engine talks to an ``Extractor`` only through the three methods below, so the offline
``heuristic`` extractor and LLM-backed ones are interchangeable. Extractors are found by name in a
lazy registry (``"module:attribute"`` strings): nothing heavy is imported until one is asked for.

What the nodes are — a chain, a precondition, a statement, a definition, the relations and
categories — is defined once in ``nodes.py``: the heuristic extractor implements those definitions and
the LLM prompts quote them.

Contract every extractor keeps (the engine and the tests check it):
- ``chains``: each chain has ``min_steps``..``max_steps`` steps, the last is the conclusion, and every
  step (and context sentence) span is in *document* coordinates:
  ``doc.text[step.span.start:step.span.end] == step.text``. Preconditions never repeat a step.
- ``statements``: each points at its chain, ``relation`` in ``records.RELATIONS``, ``steps`` the indices
  of the window it came from (empty for a statement from one of the chain's context sentences). A chain
  whose text states no typed relation may have none: nothing is invented.
- ``concepts``: each has at least one parent statement (zero orphans), sorted by name; a definition is
  text that defines the concept (``defined_by`` names its statement) or "".
- The same input gives the same records, byte for byte.
"""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Protocol, runtime_checkable

from ..config import ExtractConfig
from ..errors import UsageError
from ..records import Chain, Chunk, Concept, Statement


@runtime_checkable
class Extractor(Protocol):
    def chains(self, chunk: Chunk, cfg: ExtractConfig) -> list[Chain]:
        """L3: reasoning chains from one chunk."""
        ...

    def statements(self, chain: Chain, cfg: ExtractConfig) -> list[Statement]:
        """L2: typed triples from sliding windows of ``cfg.window`` adjacent steps of one chain."""
        ...

    def concepts(self, discipline: str, statements: list[Statement]) -> list[Concept]:
        """L1: canonical concepts from the subjects/objects of a whole discipline's statements."""
        ...


_REGISTRY: dict[str, str] = {
    "heuristic": "proda.extract.heuristic:HeuristicExtractor",
}


def register(name: str, target: str) -> None:
    """Register an extractor class as ``"package.module:Class"`` (imported only when asked for)."""
    _REGISTRY[name] = target


def names() -> list[str]:
    return sorted(_REGISTRY)


def get_extractor(name: str, **options: Any) -> Extractor:
    """A new extractor of the given name; ``options`` go to its constructor."""
    target = _REGISTRY.get(name)
    if target is None:
        close = difflib.get_close_matches(name, _REGISTRY, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"choose one of: {', '.join(names())}"
        raise UsageError(f"unknown extractor {name!r}", hint)
    module, _, attr = target.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise UsageError(f"extractor {name!r} needs a package that is not installed: {exc.name}",
                         f"pip install {exc.name}") from exc
    return cls(**options)


__all__ = ["Extractor", "get_extractor", "names", "register"]
