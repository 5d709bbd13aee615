"""Throughput of LLM calls through the cache: sequential vs ``llm.concurrency`` = C threads.

The loopback fake server answers every call after a fixed latency (like a busy vLLM server); each
run starts from an empty on-disk DuckDB cache, so every call is a miss that goes to the server and
is then committed. Target: speedup >= 0.8 * C, i.e. neither the cache lookups nor its per-call
commits (one writer lock) serialise the calls. Prints one JSON line; exits 1 below target.

    python tests/perf/llm_concurrency.py [--concurrency 8] [--latency-ms 50] [--calls 160]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import msgspec

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[1])]

from fake_openai import FakeOpenAI  # noqa: E402

from proda.config import LLMConfig  # noqa: E402
from proda.llm import map_concurrent  # noqa: E402
from proda.llm.cache import CachedLLM, LLMCache  # noqa: E402
from proda.llm.openai import OpenAILLM  # noqa: E402


class Echo(msgspec.Struct):
    echo: str
    model: str


def run(url: str, calls: int, concurrency: int, tag: str) -> float:
    """Calls per second for ``calls`` distinct requests, on ``concurrency`` threads, fresh cache."""
    with tempfile.TemporaryDirectory() as tmp:
        con = duckdb.connect(str(Path(tmp) / "proda.duckdb"))
        cfg = LLMConfig(backend="openai", model="fake", base_url=url, concurrency=concurrency)
        llm = CachedLLM(OpenAILLM(cfg), LLMCache(con))
        prompts = [[{"role": "user", "content": f"{tag} question {i}"}] for i in range(calls)]
        started = time.perf_counter()
        replies = map_concurrent(lambda m: llm.complete_json(m, Echo, params={"max_tokens": 32}), prompts,
                                 concurrency)
        seconds = time.perf_counter() - started
        assert len(replies) == calls and llm.counters["calls"] == calls and len(llm.cache) == calls
        llm.close()
        llm.cache.close()
        con.close()
    return calls / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--calls", type=int, default=160)
    args = parser.parse_args()
    with FakeOpenAI(delay_ms=args.latency_ms) as server:
        sequential = run(server.url, args.calls // 4, 1, "seq")  # 40 x 50 ms is plenty to measure
        concurrent = run(server.url, args.calls, args.concurrency, "par")
    target = 0.8 * args.concurrency
    speedup = concurrent / sequential
    print(json.dumps({"concurrency": args.concurrency, "latency_ms": args.latency_ms,
                      "sequential_rps": round(sequential, 2), "concurrent_rps": round(concurrent, 2),
                      "speedup": round(speedup, 2), "target": target}))
    return 0 if speedup >= target else 1


if __name__ == "__main__":
    sys.exit(main())
