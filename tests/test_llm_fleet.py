"""An endpoint fleet in the OpenAI-compatible backend: calls spread over the endpoints with
``llm.concurrency`` slots each; an endpoint that is down or failing is taken out and its calls
retried on the others; the call cache is keyed by model and weights, never by endpoint."""

from __future__ import annotations

import socket

import duckdb
import msgspec
import pytest

from fake_openai import FakeOpenAI
from proda.config import LLMConfig
from proda.errors import StageError
from proda.llm import concurrency, map_concurrent
from proda.llm.cache import CachedLLM, LLMCache
from proda.llm.openai import OpenAILLM


class Echo(msgspec.Struct):
    echo: str
    model: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ask(llm, n: int, tag: str = "q") -> list:
    return map_concurrent(lambda i: llm.complete([{"role": "user", "content": f"{tag} {i}"}], schema=None,
                                                 params={"max_tokens": 8}), range(n), llm.concurrency)


def test_calls_spread_with_per_endpoint_slots():
    with FakeOpenAI(delay_ms=20, capacity=2) as a, FakeOpenAI(delay_ms=20, capacity=2) as b:
        cfg = LLMConfig(backend="openai", model="m", base_url=[a.url, b.url], concurrency=2)
        llm = OpenAILLM(cfg)
        assert llm.concurrency == concurrency(cfg) == 4
        assert len(ask(llm, 40)) == 40
        llm.close()
    assert a.total + b.total == 40 and a.total >= 12 and b.total >= 12
    assert a.peak <= 2 and b.peak <= 2, "more calls in flight at one endpoint than llm.concurrency"


def test_a_dead_endpoint_is_taken_out_and_its_calls_go_elsewhere(capfd):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    with FakeOpenAI() as live:
        llm = OpenAILLM(LLMConfig(backend="openai", model="m", base_url=[dead, live.url], concurrency=2,
                                  max_retries=0))
        assert len(ask(llm, 20)) == 20  # no retries allowed, yet nothing failed: moved, not retried
        llm.close()
    assert live.total == 20
    assert "taken out" in capfd.readouterr().err


def test_a_hung_endpoint_is_taken_out_at_its_first_timeout(capfd):
    """One endpoint accepts and never answers (within llm.timeout): its calls move to the other at
    once, without retries, and it is taken out rather than waited on call after call."""
    with FakeOpenAI(delay_ms=2000) as hung, FakeOpenAI() as live:
        llm = OpenAILLM(LLMConfig(backend="openai", model="m", base_url=[hung.url, live.url], concurrency=2,
                                  max_retries=0, timeout=0.2, cooldown=60))
        assert len(ask(llm, 20)) == 20
        llm.close()
    assert live.total == 20 and hung.total <= 4
    assert "taken out" in capfd.readouterr().err


def test_a_fleet_of_hung_endpoints_fails_instead_of_bouncing_forever():
    """Every endpoint hung, and each back from its cooldown before the next times out: the call
    moves a bounded number of times, then fails as hung."""
    import time

    with FakeOpenAI(delay_ms=5000) as a, FakeOpenAI(delay_ms=5000) as b:
        llm = OpenAILLM(LLMConfig(backend="openai", model="m", base_url=[a.url, b.url], max_retries=3,
                                  timeout=0.2, cooldown=0.05), backoff=0.001)
        started = time.monotonic()
        with pytest.raises(StageError, match="never answered"):
            llm.complete([{"role": "user", "content": "hi"}], schema=None, params={})
        llm.close()
        assert time.monotonic() - started < 3 and a.total + b.total <= 6


def test_a_failing_endpoint_is_taken_out_after_three_failures():
    with FakeOpenAI(fail_first=10**6, fail_status=500) as bad, FakeOpenAI() as good:
        llm = OpenAILLM(LLMConfig(backend="openai", model="m", base_url=[bad.url, good.url], concurrency=1,
                                  max_retries=3), backoff=0.001)
        assert len(ask(llm, 30)) == 30
        llm.close()
    assert bad.total <= 4, "the failing endpoint kept getting calls after it was taken out"
    assert good.total == 30


def test_every_endpoint_down_fails_with_the_fleet_named():
    urls = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    llm = OpenAILLM(LLMConfig(backend="openai", model="m", base_url=urls, max_retries=1), backoff=0.001)
    with pytest.raises(StageError, match="and the 1 other endpoint"):
        llm.complete([{"role": "user", "content": "hi"}], schema=None, params={})
    llm.close()


def test_cache_key_does_not_depend_on_the_endpoints(tmp_path):
    con = duckdb.connect(str(tmp_path / "proda.duckdb"))
    with FakeOpenAI() as a, FakeOpenAI() as b:
        fleet = CachedLLM(OpenAILLM(LLMConfig(backend="openai", model="m", base_url=[a.url, b.url])), LLMCache(con))
        prompts = [[{"role": "user", "content": f"q {i}"}] for i in range(10)]
        first = [fleet.complete_json(p, Echo, params={}) for p in prompts]
        single = CachedLLM(OpenAILLM(LLMConfig(backend="openai", model="m", base_url=b.url)), LLMCache(con))
        again = [single.complete_json(p, Echo, params={}) for p in prompts]
        assert again == first
        assert a.total + b.total == 10, "a single endpoint of the same model re-asked cached calls"
