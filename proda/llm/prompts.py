"""Load and render the versioned prompt files in ``proda/prompts/`` (``NAME.vN.txt``).

A file is a sequence of ``=== system ===`` / ``=== user ===`` / ``=== assistant ===`` sections;
``{{ name }}`` is replaced by a value (nothing else is special, so JSON examples need no escaping).
``render`` returns the chat messages and the template hash (xxh3-128 of the file name and bytes),
which goes into the LLM cache key and the stage recipe.

    >>> messages, template = render("repair_json.v1", error="truncated")
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources

from ..hashing import digest

_SECTION = re.compile(r"^=== (system|user|assistant) ===[ \t]*\n", re.M)
_SLOT = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@lru_cache(maxsize=None)
def load(name: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """The (role, template) sections of prompt ``name`` (e.g. ``extract_chains.v1``) and its hash."""
    try:
        text = resources.files("proda.prompts").joinpath(f"{name}.txt").read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"no prompt file proda/prompts/{name}.txt") from None
    pieces = _SECTION.split(text)
    if pieces[0].strip() or len(pieces) < 3:
        raise ValueError(f"proda/prompts/{name}.txt must start with a '=== system ===' or '=== user ===' line")
    sections = tuple((pieces[i], pieces[i + 1].rstrip("\n")) for i in range(1, len(pieces), 2))
    return sections, digest(["prompt", name, text])


def slots(name: str) -> set[str]:
    sections, _ = load(name)
    return {m.group(1) for _, body in sections for m in _SLOT.finditer(body)}


def render(prompt: str, /, **values: object) -> tuple[list[dict], str]:
    """``(messages, template_hash)`` for prompt file ``prompt`` with every ``{{ slot }}`` filled."""
    sections, template_hash = load(prompt)
    wanted = slots(prompt)
    if missing := wanted - values.keys():
        raise ValueError(f"prompt {prompt} needs {sorted(missing)}")
    if extra := values.keys() - wanted:
        raise ValueError(f"prompt {prompt} has no slot for {sorted(extra)}")
    fill = lambda m: str(values[m.group(1)])  # noqa: E731
    return [{"role": role, "content": _SLOT.sub(fill, body)} for role, body in sections], template_hash
