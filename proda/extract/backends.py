"""Choosing and opening the extractor for a project: heuristic, or an LLM through the call cache.

The LLM cache lives in the catalog (DuckDB); it is opened here for the duration of the stage and
the extractor's units run on ``llm.concurrency`` threads.
"""

from __future__ import annotations

import contextlib
from typing import Iterator


def llm_fingerprint(cfg) -> str:
    """Backend + model id (+ weights hash for local models) + prompt templates."""
    from ..hashing import digest
    from ..llm import local_fingerprint
    from ..llm.prompts import load

    prompts = digest([load(name)[1] for name in ("extract_chains.v1", "extract_statements.v1")])
    model = f"{cfg.backend}:{cfg.model}" if cfg.backend == "openai" else local_fingerprint(cfg.backend, cfg)
    return f"{model}:prompts={prompts[:16]}"


@contextlib.contextmanager
def open_extractor(project) -> Iterator[tuple[object, int]]:
    cfg = project.config.llm
    if cfg.backend == "heuristic":
        from . import get_extractor

        yield get_extractor("heuristic"), 1
        return
    from ..catalog import open_catalog
    from .llm import LLMExtractor

    with open_catalog(project) as cat:
        yield LLMExtractor.from_config(cfg, cat.con), max(1, cfg.concurrency)
