"""Any OpenAI-compatible ``/v1/chat/completions`` endpoint (``vllm serve``, a router, a hosted API),
or a fleet of them.

One synchronous httpx client shared by the caller's threads (its connection pool is thread-safe);
concurrency is the caller's (:func:`proda.llm.map_concurrent`). Retries 429, 5xx and connection
errors with exponential backoff and jitter, honouring ``Retry-After``; other 4xx fail at once. The
API key is read from ``$<llm.api_key_env>`` on every call: never stored, never hashed.

A fleet: ``llm.base_url`` may be a list of base URLs (one ``vllm serve`` per GPU, say). Each call
takes a free slot on the least busy endpoint that is in service (``llm.concurrency`` slots per
endpoint), so the caller runs ``concurrency x endpoints`` calls at once. An endpoint that cannot be
reached, or fails three calls in a row, is taken out for ``llm.cooldown`` seconds and the calls it
failed are retried at once on the others; it is tried again after the cooldown. The endpoint is
never part of a call's cache key (see :meth:`OpenAILLM.fingerprint`): any endpoint of the fleet
serves the same model and weights.

Try it alone: ``vllm serve MODEL --port 8000`` then
``python -c "from proda.config import LLMConfig; from proda.llm import get_llm;
print(get_llm(LLMConfig(backend='openai', model='MODEL')).complete([{'role': 'user', 'content': 'hi'}],
schema=None, params={}))"``.
"""

from __future__ import annotations

import email.utils
import os
import random
import threading
import time
from typing import Any

import httpx

from ..config import LLMConfig
from ..engine.damage import say  # the real stderr: inside a build, doit captures sys.stderr
from ..errors import StageError

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 300.0  # seconds: a longer Retry-After is capped, not obeyed blindly
HUNG_AFTER = 2  # timeouts of an endpoint that has answered nothing yet: hung, not busy — stop there
TIMED_OUT = object()  # _attempt's marker, in the Retry-After place, for a request that timed out
_ANSWERED: dict[str, int] = {}  # base URL -> replies it gave this process (any backend instance)


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


FAILS_TO_TAKE_OUT = 3  # consecutive failed calls after which a fleet endpoint is taken out


def base_urls(cfg: LLMConfig) -> list[str]:
    """The endpoints ``llm.base_url`` names: one string or a list."""
    urls = [cfg.base_url] if isinstance(cfg.base_url, str) else list(cfg.base_url)
    if not urls or not all(isinstance(u, str) and u.strip() for u in urls):
        from ..errors import UsageError

        raise UsageError("llm.base_url is empty", "give the server's /v1 URL, or a list of them for a fleet")
    return [u.rstrip("/") for u in urls]


class Endpoint:
    __slots__ = ("base", "url", "slots", "busy", "failures", "out_until", "calls", "told")

    def __init__(self, base: str, slots: int):
        self.base, self.url, self.slots = base, base + "/chat/completions", slots
        self.busy = self.failures = self.calls = 0
        self.out_until = 0.0
        self.told = False  # the user was told it keeps them waiting


class Fleet:
    """Endpoints with a number of slots each; a failing endpoint is out until its cooldown ends."""

    def __init__(self, urls: list[str], slots: int, cooldown: float):
        self.endpoints = [Endpoint(u, max(1, slots)) for u in urls]
        self.cooldown = cooldown
        self._cond = threading.Condition()

    def __len__(self) -> int:
        return len(self.endpoints)

    def acquire(self, avoid: Endpoint | None = None) -> Endpoint:
        """A slot on the least busy endpoint in service (another than ``avoid`` if one is free);
        waits for a slot. With every endpoint out, the one back soonest is tried anyway."""
        with self._cond:
            while True:
                now = time.monotonic()
                live = [e for e in self.endpoints if e.out_until <= now]
                if not live:
                    chosen = min(self.endpoints, key=lambda e: e.out_until)
                    chosen.busy += 1
                    return chosen
                free = [e for e in live if e.busy < e.slots]
                if free:
                    others = [e for e in free if e is not avoid] or free
                    chosen = min(others, key=lambda e: (e.busy / e.slots, e.calls))
                    chosen.busy += 1
                    chosen.calls += 1
                    return chosen
                soonest = min((e.out_until for e in self.endpoints if e.out_until > now), default=now + 1.0)
                self._cond.wait(timeout=max(0.05, min(1.0, soonest - now)))

    def release(self, endpoint: Endpoint, ok: bool, unreachable: bool = False) -> tuple[bool, bool]:
        """Give the slot back; returns (the endpoint is out now, this call took it out)."""
        with self._cond:
            endpoint.busy -= 1
            now = time.monotonic()
            newly = False
            if ok:
                endpoint.failures = 0
            else:
                endpoint.failures += 1
                if len(self.endpoints) > 1 and (unreachable or endpoint.failures >= FAILS_TO_TAKE_OUT):
                    newly = endpoint.out_until <= now
                    endpoint.out_until = max(endpoint.out_until, now + self.cooldown)
                    endpoint.failures = 0
            self._cond.notify_all()
            return endpoint.out_until > now, newly

    def in_service(self) -> int:
        now = time.monotonic()
        return sum(1 for e in self.endpoints if e.out_until <= now)


class OpenAILLM:
    backend = "openai"

    def __init__(self, cfg: LLMConfig, *, backoff: float = 0.5, max_backoff: float = 30.0):
        self.cfg = cfg
        self.model = cfg.model
        self.fleet = Fleet(base_urls(cfg), cfg.concurrency, cfg.cooldown)
        self.url = self.fleet.endpoints[0].url
        self.backoff = backoff
        self.max_backoff = max_backoff
        pool = max(cfg.concurrency, 1) * len(self.fleet) + 4
        self._client = httpx.Client(
            timeout=httpx.Timeout(cfg.timeout, connect=min(cfg.timeout, 10.0)),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )

    @property
    def concurrency(self) -> int:
        """Calls worth running at once: ``llm.concurrency`` per endpoint."""
        return max(1, self.cfg.concurrency) * len(self.fleet)

    def fingerprint(self) -> str:
        # The server cannot be asked for its weights hash: llm.revision is the user's word for it.
        # The URLs are left out on purpose: moving a server to another port, or adding a replica
        # to the fleet, must not void the cache.
        return f"openai:{self.model}:{self.cfg.revision}"

    def close(self) -> None:
        self._client.close()

    def complete(self, messages: list[dict], *, schema: dict | None, params: dict) -> str:
        body: dict[str, Any] = {"model": self.model, "messages": messages, **params}
        if schema is not None:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "response", "schema": schema, "strict": True},
            }
        data = self._post(body)
        try:
            content = data["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise StageError(f"endpoint {self.url} answered without choices[0].message.content: "
                             f"{str(data)[:300]}", "is llm.base_url an OpenAI-compatible /v1 endpoint?")
        return content or ""

    def _headers(self) -> dict[str, str]:
        key = os.environ.get(self.cfg.api_key_env, "")
        return {"Authorization": f"Bearer {key}"} if key else {}

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, MAX_RETRY_AFTER) + random.uniform(0, self.backoff / 4)
        ceiling = min(self.max_backoff, self.backoff * 2 ** attempt)
        return random.uniform(ceiling / 2, ceiling)  # jitter: concurrent clients do not retry in step

    def _attempt(self, endpoint: Endpoint, body: dict) -> tuple[Any, str, bool, Any]:
        """One request: (reply, "", ...) or (None, why it failed, unreachable, Retry-After seconds,
        None, or TIMED_OUT when no answer came within llm.timeout)."""
        try:
            resp = self._client.post(endpoint.url, json=body, headers=self._headers())
        except httpx.ConnectTimeout as exc:  # no connection at all (SYNs dropped): unreachable, not hung
            return None, f"{type(exc).__name__}: {exc}", True, None
        except httpx.TimeoutException as exc:
            return None, f"no answer within llm.timeout = {self.cfg.timeout:g}s ({type(exc).__name__})", False, TIMED_OUT
        except httpx.TransportError as exc:
            return None, f"{type(exc).__name__}: {exc}", True, None
        if resp.status_code == 200:
            try:
                return resp.json(), "", False, None
            except ValueError:
                raise StageError(f"endpoint {endpoint.url} answered HTTP 200 with a body that is not "
                                 f"JSON: {resp.text[:200]!r}", "is llm.base_url the server's /v1 URL?")
        if resp.status_code not in RETRY_STATUS:
            raise StageError(f"endpoint {endpoint.url} refused the request: HTTP {resp.status_code}: "
                             f"{resp.text[:300]}", self._hint(resp.status_code))
        return (None, f"HTTP {resp.status_code}: {resp.text[:200]}", False,
                retry_after_seconds(resp.headers.get("retry-after")))

    def _post(self, body: dict) -> Any:
        tries = self.cfg.max_retries + 1
        failed = timeouts = moves = 0
        failure, unreachable, endpoint = "", False, None
        while True:
            endpoint = self.fleet.acquire(avoid=endpoint)
            ok = timed_out = suspect = False
            try:
                data, failure, unreachable, retry_after = self._attempt(endpoint, body)
                ok = data is not None or not failure
                timed_out = retry_after is TIMED_OUT
                # a timeout from an endpoint that has answered nothing yet (in this process): likely
                # hung, not busy — in a fleet it is taken out at once, like one that cannot be reached
                suspect = timed_out and _ANSWERED.get(endpoint.base, 0) == 0
            finally:
                is_out, taken_out = self.fleet.release(endpoint, ok, unreachable or (not ok and suspect))
            if ok:
                _ANSWERED[endpoint.base] = _ANSWERED.get(endpoint.base, 0) + 1
                return data
            if timed_out:
                retry_after = None
                timeouts += 1
                if not endpoint.told:  # the wait is said once per endpoint, not once per call
                    endpoint.told = True
                    say(f"  llm endpoint {endpoint.base}: {failure}; retrying")
            if taken_out:
                say(f"  llm endpoint {endpoint.base} taken out for {self.cfg.cooldown:g}s: {failure}")
            if (unreachable or suspect) and is_out and self.fleet.in_service() > 0 and moves < len(self.fleet):
                moves += 1  # another endpoint takes the call at once (a few times: they may all be down)
                continue
            failed += 1
            if suspect and timeouts >= HUNG_AFTER:
                raise StageError(f"endpoint {endpoint.url} accepted the connection but never answered "
                                 f"({timeouts} tries of llm.timeout = {self.cfg.timeout:g}s)",
                                 "is the server stuck, or is llm.base_url another service? See whether "
                                 "`curl BASE_URL/models` answers; a server that is only slow needs a larger "
                                 "llm.timeout")
            if failed >= tries:
                break
            time.sleep(self._delay(failed - 1, retry_after))
        where = endpoint.url if len(self.fleet) == 1 else f"{endpoint.url} (and the {len(self.fleet) - 1} other endpoint(s))"
        if unreachable:
            raise StageError(f"endpoint {where} unreachable: {failure} (after {tries} tries) "
                             "— start the server or fix llm.base_url")
        raise StageError(f"endpoint {where} kept failing: {failure} (after {tries} tries)",
                         "the server is overloaded or failing: lower llm.concurrency, raise llm.timeout "
                         "or llm.max_retries, or look at the server's log")

    def _hint(self, status: int) -> str:
        if status in (401, 403):
            return f"set ${self.cfg.api_key_env} to a key the server accepts (llm.api_key_env names the variable)"
        if status == 404:
            return f"check llm.base_url (it should end in /v1) and that the server serves llm.model = {self.model!r}"
        return "the server rejected the request body: check llm.model and that it supports response_format json_schema"
