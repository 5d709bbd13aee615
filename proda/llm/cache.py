"""The LLM call cache (DESIGN.md, "LLM call cache"), stored in the catalog ``build/proda.duckdb``.

Key = xxh3-128 of the canonical request: backend, the backend's fingerprint (model id, and for local
models the weights and adapter hash), the rendered messages, the normalised sampling params, the
response schema and the prompt-template hash. A local model's folder path is not in the key, its
content is: moving a checkpoint keeps its cache, changing one byte of it does not. The *raw* reply
is stored; parsing happens after the cache, so a parser fix re-parses without calling again. Failed
calls raise and are never stored.

Threads: reads use one DuckDB cursor per thread; a reply is committed after the network wait, outside
it, before ``complete`` returns (a ``kill -9`` loses only the calls in flight); commits are grouped
across threads so the cache does not serialise concurrent calls. Identical calls in flight at once
are made once.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any, TypeVar

import msgspec

from ..hashing import digest
from . import LLM, LLMOutputError, json_schema, normalise_params, parse_json

T = TypeVar("T")

CACHE_VERSION = 1  # bump when the canonical request changes shape

_SCHEMA = """CREATE TABLE IF NOT EXISTS llm_cache (
    key VARCHAR PRIMARY KEY,
    backend VARCHAR,
    model VARCHAR,
    response VARCHAR,
    created TIMESTAMP
)"""

_INSERT_ONE = "INSERT INTO llm_cache VALUES (?, ?, ?, ?, now()::TIMESTAMP) ON CONFLICT DO NOTHING"
# a batch as four list parameters: constant SQL, ~4 ms for 1 or 128 rows (executemany: ~2 ms a row)
_INSERT_MANY = ("INSERT INTO llm_cache SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                "unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), now()::TIMESTAMP ON CONFLICT DO NOTHING")


def request_key(*, backend: str, fingerprint: str, messages: list[dict], params: dict,
                schema: dict | None, template: str) -> str:
    """The cache key of one call; ``params`` must already be normalised."""
    return digest({
        "v": CACHE_VERSION, "backend": backend, "fingerprint": fingerprint,
        "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
        "params": params, "schema": schema, "template": template,
    })


class _Pending:
    __slots__ = ("row", "done", "error")

    def __init__(self, row: list[Any]):
        self.row = row
        self.done = False
        self.error: BaseException | None = None


class LLMCache:
    """``llm_cache`` in an open DuckDB connection (the caller owns and closes the connection).

    Writes are group-committed: ``put`` returns once its row is committed, and whichever writer holds
    the lock commits every row queued so far in one transaction. Per-call durability (a ``kill -9``
    loses no returned call) at the cost of one commit per *batch*, so the cache keeps up with dozens
    of concurrent calls instead of capping them at one commit each (~3 ms here).
    """

    def __init__(self, con: Any):
        self._con = con
        self._lock = threading.Lock()  # the one writer; also guards cursor creation
        self._queue_lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._local = threading.local()
        self._cursors: list[Any] = []
        with self._lock:
            con.execute(_SCHEMA)

    def _cursor(self) -> Any:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._lock:
                cur = self._con.cursor()
                self._cursors.append(cur)
            self._local.cursor = cur
        return cur

    def get(self, key: str) -> str | None:
        row = self._cursor().execute("SELECT response FROM llm_cache WHERE key = ?", [key]).fetchone()
        return None if row is None else row[0]

    def forget(self, keys: list[str]) -> None:
        """Drop replies that turned out unusable, so the next run asks again."""
        cur = self._cursor()  # before the lock: creating a cursor takes it too
        with self._lock:
            cur.execute("DELETE FROM llm_cache WHERE list_contains(?, key)", [keys])

    def put(self, key: str, backend: str, model: str, response: str) -> None:
        """Store one reply; returns once it is committed (durable against ``kill -9``)."""
        mine = _Pending([key, backend, model, response])
        cur = self._cursor()
        with self._queue_lock:
            self._queue.append(mine)
        with self._lock:
            if not mine.done:  # nobody committed it while we waited: commit everything queued
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                try:  # one statement, one transaction, one commit
                    if len(batch) == 1:
                        cur.execute(_INSERT_ONE, batch[0].row)
                    else:
                        cur.execute(_INSERT_MANY, [list(column) for column in zip(*(p.row for p in batch))])
                except BaseException as exc:
                    for p in batch:
                        p.error = exc
                    raise
                finally:
                    for p in batch:
                        p.done = True
        if mine.error is not None:
            raise mine.error

    def __len__(self) -> int:
        return self._cursor().execute("SELECT count(*) FROM llm_cache").fetchone()[0]

    def close(self) -> None:
        """Close the per-thread cursors (not the connection, which the caller owns)."""
        with self._lock:
            for cur in self._cursors:
                cur.close()
            self._cursors.clear()
        self._local = threading.local()


class CachedLLM:
    """An :class:`LLM` whose calls go through an :class:`LLMCache` (``cache=None``: no caching).

    Counters: ``hits`` (served from the cache, or shared with an identical call in flight),
    ``misses``, ``calls`` (backend calls that succeeded) and ``errors`` (backend calls that raised).
    """

    def __init__(self, llm: LLM, cache: LLMCache | None):
        self.llm = llm
        self.cache = cache
        self.backend = llm.backend
        self.model = llm.model
        self.hits = self.misses = self.calls = self.errors = 0
        self._lock = threading.Lock()
        self._inflight: dict[str, Future] = {}
        self._fingerprint: str | None = None

    def fingerprint(self) -> str:
        if self._fingerprint is None:
            self._fingerprint = self.llm.fingerprint()  # may hash gigabytes once: computed lazily
        return self._fingerprint

    @property
    def counters(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "calls": self.calls, "errors": self.errors}

    def key(self, messages: list[dict], *, schema: dict | None, params: dict, template: str = "") -> str:
        return request_key(backend=self.backend, fingerprint=self.fingerprint(),
                           messages=messages, params=normalise_params(params), schema=schema,
                           template=template)

    def _count(self, name: str) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def complete(self, messages: list[dict], *, schema: dict | None = None, params: dict,
                 template: str = "") -> str:
        params = normalise_params(params)
        key = self.key(messages, schema=schema, params=params, template=template)
        with self._lock:  # claim the key first: an identical call in flight is waited for, not repeated
            shared = self._inflight.get(key)
            if shared is None:
                self._inflight[key] = mine = Future()
        if shared is not None:
            self._count("hits")
            return shared.result()
        try:
            text = self._lookup(key)
            if text is None:
                text = self._call(key, messages, schema, params)
            mine.set_result(text)
            return text
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self._lock:  # after the reply is in the cache, so a later caller reads it there
                self._inflight.pop(key, None)

    def _lookup(self, key: str) -> str | None:
        hit = self.cache.get(key) if self.cache is not None else None
        if hit is not None:
            self._count("hits")
        return hit

    def _call(self, key: str, messages: list[dict], schema: dict | None, params: dict) -> str:
        """One backend call, outside every lock; its reply is committed before it is returned."""
        self._count("misses")
        try:
            text = self.llm.complete(messages, schema=schema, params=params)
        except BaseException:
            self._count("errors")  # and nothing is stored: errors are never cached
            raise
        self._count("calls")
        if self.cache is not None:
            self.cache.put(key, self.backend, self.model, text)
        return text

    def complete_json(self, messages: list[dict], type_: type[T], *, params: dict, template: str = "",
                      what: str = "reply") -> T:
        """Call with a JSON schema for ``type_`` and validate the reply; one repair round, then fail.

        The repair round sends the bad output back with the parser's error (``repair_json.v1``); both
        calls are cached like any other, so a rerun replays them without calling. When the repaired
        reply is invalid too, both replies are forgotten: an unusable answer is an error, and errors
        are never cached — the next build asks again.
        """
        schema = json_schema(type_)
        raw = self.complete(messages, schema=schema, params=params, template=template)
        try:
            return parse_json(raw, type_)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            first_error = str(exc)
        from .prompts import render  # noqa: PLC0415 (prompt files are read on first repair only)

        fix, fix_hash = render("repair_json.v1", error=first_error)
        repair = messages + [{"role": "assistant", "content": raw}] + fix
        raw2 = self.complete(repair, schema=schema, params=params, template=digest([template, fix_hash]))
        try:
            return parse_json(raw2, type_)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            if self.cache is not None:
                self.cache.forget([self.key(messages, schema=schema, params=params, template=template),
                                   self.key(repair, schema=schema, params=params,
                                            template=digest([template, fix_hash]))])
            raise LLMOutputError(
                f"{self.backend} model {self.model!r} gave an invalid {what} twice (one repair round): "
                f"{exc}; it began {raw2[:160]!r}",
                "raise llm.max_tokens if the JSON was cut off, or serve the model with structured "
                "outputs (vLLM: response_format json_schema)") from exc

    def close(self) -> None:
        close = getattr(self.llm, "close", None)
        if close is not None:
            close()
