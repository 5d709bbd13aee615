"""The one text format shared by training, scoring and export.

A training sample is rendered as ``Q: <prompt>\nA: <response>``; a benchmark item is scored as the
log-likelihood of `` <option>`` after ``Q: <stem>\nA:`` — the same shape, so what the model learns
from samples is what the scorer asks. Exports (chat JSONL, lm-eval tasks) use the same strings.
"""

from __future__ import annotations


def sample_text(prompt: str, response: str) -> str:
    return f"Q: {prompt}\nA: {response}"


def item_context(stem: str) -> str:
    return f"Q: {stem}\nA:"


def option_continuation(option: str) -> str:
    return f" {option}"
