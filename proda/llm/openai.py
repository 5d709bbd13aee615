"""Any OpenAI-compatible ``/v1/chat/completions`` endpoint (``vllm serve``, a router, a hosted API).

One synchronous httpx client shared by the caller's threads (its connection pool is thread-safe);
concurrency is the caller's (:func:`proda.llm.map_concurrent`). Retries 429, 5xx and connection
errors with exponential backoff and jitter, honouring ``Retry-After``; other 4xx fail at once. The
API key is read from ``$<llm.api_key_env>`` on every call: never stored, never hashed.

Try it alone: ``vllm serve MODEL --port 8000`` then
``python -c "from proda.config import LLMConfig; from proda.llm import get_llm;
print(get_llm(LLMConfig(backend='openai', model='MODEL')).complete([{'role': 'user', 'content': 'hi'}],
schema=None, params={}))"``.
"""

from __future__ import annotations

import email.utils
import os
import random
import time
from typing import Any

import httpx

from ..config import LLMConfig
from ..errors import StageError

RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 300.0  # seconds: a longer Retry-After is capped, not obeyed blindly


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


class OpenAILLM:
    backend = "openai"

    def __init__(self, cfg: LLMConfig, *, backoff: float = 0.5, max_backoff: float = 30.0):
        self.cfg = cfg
        self.model = cfg.model
        self.url = cfg.base_url.rstrip("/") + "/chat/completions"
        self.backoff = backoff
        self.max_backoff = max_backoff
        pool = max(cfg.concurrency, 1) + 4
        self._client = httpx.Client(
            timeout=httpx.Timeout(cfg.timeout, connect=min(cfg.timeout, 10.0)),
            limits=httpx.Limits(max_connections=pool, max_keepalive_connections=pool),
        )

    def fingerprint(self) -> str:
        # The server cannot be asked for its weights hash: llm.revision is the user's word for it.
        # The URL is left out on purpose: moving a server to another port must not void the cache.
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

    def _post(self, body: dict) -> Any:
        tries = self.cfg.max_retries + 1
        failure, unreachable = "", False
        for attempt in range(tries):
            retry_after = None
            try:
                resp = self._client.post(self.url, json=body, headers=self._headers())
            except httpx.TimeoutException as exc:
                failure, unreachable = f"no answer within llm.timeout = {self.cfg.timeout}s ({type(exc).__name__})", False
            except httpx.TransportError as exc:
                failure, unreachable = f"{type(exc).__name__}: {exc}", True
            else:
                if resp.status_code == 200:
                    try:
                        return resp.json()
                    except ValueError:
                        raise StageError(f"endpoint {self.url} answered HTTP 200 with a body that is not "
                                         f"JSON: {resp.text[:200]!r}", "is llm.base_url the server's /v1 URL?")
                if resp.status_code not in RETRY_STATUS:
                    raise StageError(f"endpoint {self.url} refused the request: HTTP {resp.status_code}: "
                                     f"{resp.text[:300]}", self._hint(resp.status_code))
                failure, unreachable = f"HTTP {resp.status_code}: {resp.text[:200]}", False
                retry_after = retry_after_seconds(resp.headers.get("retry-after"))
            if attempt + 1 < tries:
                time.sleep(self._delay(attempt, retry_after))
        if unreachable:
            raise StageError(f"endpoint {self.url} unreachable: {failure} (after {tries} tries) "
                             "— start the server or fix llm.base_url")
        raise StageError(f"endpoint {self.url} kept failing: {failure} (after {tries} tries)",
                         "the server is overloaded or failing: lower llm.concurrency, raise llm.timeout "
                         "or llm.max_retries, or look at the server's log")

    def _hint(self, status: int) -> str:
        if status in (401, 403):
            return f"set ${self.cfg.api_key_env} to a key the server accepts (llm.api_key_env names the variable)"
        if status == 404:
            return f"check llm.base_url (it should end in /v1) and that the server serves llm.model = {self.model!r}"
        return "the server rejected the request body: check llm.model and that it supports response_format json_schema"
