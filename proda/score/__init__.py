"""Scorers (the "test runner"): multiple-choice log-likelihood of benchmark items against a checkpoint.

A scorer is a plain function::

    scores = get_scorer(cfg.test.scorer)(model_dir, requests, batch_size=..., normalise=...)

where ``requests`` is one ``(context, continuations)`` pair per item — callers pass
``proda.text.format.item_context(stem)`` and ``[option_continuation(o) for o in options]`` — and the
result holds, per item, one log-likelihood per continuation (the prediction is the argmax, the same
as lm-evaluation-harness's ``acc``; ``normalise=True`` gives its ``acc_norm``). ``model_dir`` is a full
model directory or a LoRA adapter directory. Importing this package is cheap.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Protocol

from ..errors import UsageError
from ..train import require

Requests = list[tuple[str, list[str]]]


class Scorer(Protocol):
    def __call__(self, model_dir: Path, requests: Requests, *, batch_size: int,
                 normalise: bool) -> list[list[float]]: ...


# name -> (module, the import names it needs, the pip command that installs them)
SCORERS: dict[str, tuple[str, tuple[str, ...], str]] = {
    "loglik": ("proda.score.loglik", ("torch", "transformers"), "pip install torch transformers peft"),
    "vllm": ("proda.score.vllm", ("vllm",), "pip install vllm"),
}


def get_scorer(name: str) -> Scorer:
    """The ``score`` function of scorer ``name`` (imported on first use)."""
    if name not in SCORERS:
        raise UsageError(f"unknown scorer {name!r}", f"set test.scorer to one of: {', '.join(sorted(SCORERS))}")
    module, packages, pip = SCORERS[name]
    require(packages, pip, f"the {name!r} scorer")
    return importlib.import_module(module).score


def predictions(scores: list[list[float]]) -> list[int]:
    """The chosen option per item: the first argmax (as numpy's, which lm-eval uses)."""
    return [max(range(len(row)), key=lambda i: (row[i], -i)) if row else -1 for row in scores]
