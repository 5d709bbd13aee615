"""LLM backends behind one small protocol, chosen by name and imported only when chosen.

``get_llm(cfg)`` returns an :class:`LLM` for ``llm.backend`` = ``openai`` (any OpenAI-compatible
``/v1/chat/completions`` server, ``vllm serve`` included), ``vllm`` (offline engine) or
``transformers`` (a local HF model directory). Stages never call a backend directly: they go through
:class:`proda.llm.cache.CachedLLM`, which keys every call by its canonical request (DESIGN.md,
"LLM call cache") and validates JSON replies with one repair round.

Importing this module is cheap (no httpx, duckdb, torch or vllm), so ``proda --help`` stays fast.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.util
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar, runtime_checkable

import msgspec
import xxhash

from ..config import LLMConfig
from ..errors import StageError, UsageError
from ..hashing import digest

T = TypeVar("T")
U = TypeVar("U")


@runtime_checkable
class LLM(Protocol):
    """A chat model. ``complete`` returns the raw reply text; parsing is the caller's business."""

    backend: str  # "openai" | "vllm" | "transformers"
    model: str  # model id or local directory

    def complete(self, messages: list[dict], *, schema: dict | None, params: dict) -> str: ...

    def fingerprint(self) -> str:
        """Backend + model id (+ weights/adapter hash for local models): part of every cache key."""
        ...


class LLMOutputError(StageError):
    """A unit whose reply stayed invalid after the repair round (the unit fails, the run goes on)."""


# --- registry ----------------------------------------------------------------------------------

# backend -> (module, class, packages it needs, how to install them)
_BACKENDS: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "openai": ("proda.llm.openai", "OpenAILLM", ("httpx",), "pip install httpx"),
    "vllm": ("proda.llm.vllm_engine", "VLLMEngine", ("vllm",), "pip install 'proda[vllm]'"),
    "transformers": ("proda.llm.hf", "HFLLM", ("torch", "transformers"), "pip install 'proda[train]'"),
}


def get_llm(cfg: LLMConfig) -> LLM:
    """The backend named by ``cfg.backend``; its module is imported here, not before."""
    name = cfg.backend
    if name not in _BACKENDS:
        if name == "heuristic":
            raise UsageError("llm.backend = 'heuristic' is the offline extractor, not an LLM",
                             "set llm.backend to openai, vllm or transformers to use a model")
        close = difflib.get_close_matches(name, list(_BACKENDS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise UsageError(f"unknown llm.backend {name!r}", f"{hint}choose one of {', '.join(_BACKENDS)}")
    module, cls, packages, install = _BACKENDS[name]
    for package in packages:
        if importlib.util.find_spec(package) is None:
            raise UsageError(f"llm.backend = {name!r} needs the {package} package, which is not installed",
                             install)
    if name != "openai" and not cfg.model:
        raise UsageError(f"llm.backend = {name!r} needs llm.model", "set it to a local model directory")
    if name == "openai" and not cfg.model:
        raise UsageError("llm.backend = 'openai' needs llm.model", "set it to the model id the server serves")
    return getattr(importlib.import_module(module), cls)(cfg)


# --- sampling params ---------------------------------------------------------------------------

DEFAULT_PARAMS: dict[str, Any] = {"temperature": 0.0, "top_p": 1.0, "max_tokens": 1024, "seed": 0}
_FLOAT_PARAMS = {"temperature", "top_p", "min_p", "presence_penalty", "frequency_penalty",
                 "repetition_penalty"}


def concurrency(cfg: LLMConfig) -> int:
    """Calls worth running at once: ``llm.concurrency`` per endpoint of an openai fleet."""
    endpoints = len(cfg.base_url) if cfg.backend == "openai" and isinstance(cfg.base_url, list) else 1
    return max(1, cfg.concurrency) * max(1, endpoints)


def params_from_config(cfg: LLMConfig) -> dict[str, Any]:
    """The sampling params a stage sends, from the resolved ``[llm]`` section."""
    return normalise_params({"temperature": cfg.temperature, "max_tokens": cfg.max_tokens})


def normalise_params(params: dict[str, Any]) -> dict[str, Any]:
    """Defaults filled, ``None`` dropped, floats rounded to 6 significant digits, keys sorted.

    ``temperature=0`` and ``temperature=0.0`` must give one cache key: msgpack tells ints from floats.
    """
    merged = {**DEFAULT_PARAMS, **params}
    out: dict[str, Any] = {}
    for name in sorted(merged):
        value = merged[name]
        if value is None:
            continue
        if name in _FLOAT_PARAMS or isinstance(value, float):
            value = float(f"{float(value):.6g}")
        out[name] = value
    return out


# --- JSON replies ------------------------------------------------------------------------------


@functools.cache
def json_schema(type_: type) -> dict:
    """A self-contained JSON schema for a msgspec Struct: ``$ref``s inlined, no extra properties.

    Inlined because not every structured-output backend follows ``$defs``; ``additionalProperties:
    false`` with every field required is what OpenAI's ``strict`` mode demands. Memoised: treat the
    returned dict as read-only.
    """
    schema = msgspec.json.schema(type_)
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return resolve(defs[node["$ref"].rsplit("/", 1)[-1]])
            node = {k: resolve(v) for k, v in node.items() if k != "title"}
            if node.get("type") == "object" and "properties" in node:
                node["additionalProperties"] = False
            return node
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    return resolve(schema)


_FENCE = re.compile(r"^\s*```(?:json)?\s*\n?(.*?)\n?\s*```\s*$", re.S)


def parse_json(raw: str, type_: type[T]) -> T:
    """Decode and validate a reply (markdown code fences tolerated). Raises msgspec errors."""
    match = _FENCE.match(raw)
    text = match.group(1) if match else raw.strip()
    return msgspec.json.decode(text, type=type_)


# --- weights fingerprints ----------------------------------------------------------------------

_hash_lock = threading.Lock()
_file_hashes: dict[str, str] = {}  # "path|size|mtime_ns" -> xxh3-128; mirrors the on-disk cache
_loaded_disk_cache = False


def _hash_cache_path() -> Path | None:
    """Where file hashes persist across runs (a 15 GB checkpoint is not re-read on every build)."""
    where = os.environ.get("PRODA_HASH_CACHE")
    if where is not None:
        return Path(where) if where and where != "off" else None
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "proda" / "file-hashes.json"


def _load_disk_cache() -> None:
    global _loaded_disk_cache
    _loaded_disk_cache = True
    path = _hash_cache_path()
    if path is None or not path.exists():
        return
    try:
        _file_hashes.update(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        pass  # a damaged cache is only a slower start


def _save_disk_cache() -> None:
    path = _hash_cache_path()
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(_file_hashes, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass


def hash_file(path: Path) -> str:
    """xxh3-128 of a file's bytes, trusted while its (path, size, mtime) is unchanged."""
    st = path.stat()
    memo = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}"
    with _hash_lock:
        if not _loaded_disk_cache:
            _load_disk_cache()
        if memo in _file_hashes:
            return _file_hashes[memo]
    h = xxhash.xxh3_128()
    with path.open("rb") as fh:
        while block := fh.read(8 << 20):
            h.update(block)
    with _hash_lock:
        _file_hashes[memo] = h.hexdigest()
        _save_disk_cache()
    return _file_hashes[memo]


def hash_path(path: str | Path) -> str:
    """The content hash of a file or of a directory tree (hidden files such as .git skipped)."""
    root = Path(path)
    if root.is_file():
        return hash_file(root)
    files = sorted(p for p in root.rglob("*")
                   if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts))
    return digest([[p.relative_to(root).as_posix(), hash_file(p)] for p in files])


def local_fingerprint(backend: str, cfg: LLMConfig) -> str:
    """Fingerprint of a local model: backend, directory name, weights hash, adapter hash."""
    model = Path(cfg.model)
    if not model.is_dir():
        raise UsageError(f"llm.model = {cfg.model!r} is not a local model directory",
                         f"backend {backend!r} loads weights from disk; point llm.model at a "
                         "save_pretrained folder (no downloads are made)")
    parts = [backend, model.name, hash_path(model)]
    adapter = getattr(cfg, "adapter", "")
    if adapter:
        if not Path(adapter).exists():
            raise UsageError(f"llm.adapter = {adapter!r} does not exist", "point it at a saved adapter folder")
        parts.append(hash_path(adapter))
    return ":".join(parts)


# --- bounded concurrency -----------------------------------------------------------------------


def iter_concurrent(fn: Callable[[T], U], units: Iterable[T], concurrency: int) -> Iterator[U]:
    """``map(fn, units)`` on up to ``concurrency`` threads, yielding results in input order.

    At most ``2 * concurrency`` units are in flight or waiting, so an endless iterator of units is
    fine. The first exception is raised after the units not yet started are cancelled.
    """
    if concurrency <= 1:
        yield from map(fn, units)
        return
    window = 2 * concurrency
    pending: list[Future] = []
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="proda-llm") as pool:
        try:
            for unit in units:
                pending.append(pool.submit(fn, unit))
                if len(pending) >= window:
                    yield pending.pop(0).result()
            while pending:
                yield pending.pop(0).result()
        finally:
            for future in pending:
                future.cancel()


def map_concurrent(fn: Callable[[T], U], units: Iterable[T], concurrency: int) -> list[U]:
    """``list(map(fn, units))`` with bounded concurrency; order preserved."""
    return list(iter_concurrent(fn, units, concurrency))
