"""Choosing and opening the extractor for a project: heuristic, or an LLM through the call cache.

The LLM cache lives in the catalog (DuckDB); it is opened here for the duration of the stage and
the extractor's units run on ``llm.concurrency`` threads per endpoint.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from ..project import Project


def llm_fingerprint(cfg) -> str:
    """Backend, model id, weights/adapter hash or revision, sampling params and prompt files."""
    from .llm import fingerprint

    return fingerprint(cfg)


@contextlib.contextmanager
def open_extractor(project: "Project") -> Iterator[tuple[object, int, tuple[type[BaseException], ...]]]:
    """(extractor, concurrency, the errors that skip one unit instead of failing the stage)."""
    cfg = project.config.llm
    if cfg.backend == "heuristic":
        from . import get_extractor

        yield get_extractor("heuristic"), 1, ()
        return
    from ..engine.catalog import open_catalog
    from ..llm import LLMOutputError, concurrency
    from .llm import LLMExtractor

    with open_catalog(project) as cat:
        extractor = LLMExtractor.from_config(cfg, cat.con)
        try:
            yield extractor, concurrency(cfg), (LLMOutputError,)
        finally:
            extractor.close()  # the HTTP client and the cache's cursors, before the catalog closes
