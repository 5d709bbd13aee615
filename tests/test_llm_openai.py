"""The OpenAI-compatible backend, the LLM call cache and the LLM extractor, against a loopback fake."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import duckdb
import msgspec
import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fake_openai import FakeOpenAI  # noqa: E402

from proda.config import ExtractConfig, LLMConfig  # noqa: E402
from proda.errors import StageError, UsageError  # noqa: E402
from proda.extract import llm as extract_llm  # noqa: E402
from proda.extract.llm import LLMExtractor, anchor, map_relation  # noqa: E402
from proda.llm import LLMOutputError, get_llm, hash_path, map_concurrent, normalise_params  # noqa: E402
from proda.llm.cache import CachedLLM, LLMCache  # noqa: E402
from proda.llm.openai import OpenAILLM, retry_after_seconds  # noqa: E402
from proda.llm.prompts import render  # noqa: E402
from proda.records import RELATIONS, Chunk, Span, make  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
HI = [{"role": "user", "content": "hi"}]
PARAMS = {"temperature": 0.0, "max_tokens": 64}


class Echo(msgspec.Struct):
    echo: str
    model: str


@pytest.fixture
def server():
    with FakeOpenAI() as fake:
        yield fake


def config(server: FakeOpenAI | None = None, **kw) -> LLMConfig:
    base = {"backend": "openai", "model": "model-a", "max_retries": 3, "timeout": 5.0}
    if server is not None:
        base["base_url"] = server.url
    return LLMConfig(**{**base, **kw})


def backend(server: FakeOpenAI | None = None, **kw) -> OpenAILLM:
    return OpenAILLM(config(server, **kw), backoff=0.01, max_backoff=0.05)


def cached(server: FakeOpenAI, con=None, **kw) -> CachedLLM:
    return CachedLLM(backend(server, **kw), LLMCache(con if con is not None else duckdb.connect()))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


DOC_PREFIX = "Preface line of the document.\n"


def corpus_chunk(i: int) -> Chunk:
    """A chunk of a made-up document, offset inside it so spans must be in document coordinates."""
    w = ["reactor", "coolant", "turbine", "pressure", "neutrons", "uranium", "control", "moderator"]
    a, b, c, d = (w[(i + k) % len(w)] for k in range(4))
    text = (f"Heating {a} number{i} raises {b} temperature sharply. "
            f"Rising {b} temperature expands the {c} vapour volume. "
            f"Expanded {c} vapour spins the {d} blades quickly. "
            f"Spinning {d} blades drive the generator shaft{i} steadily. "
            f"The generator shaft{i} produces electrical power output.")
    return make(Chunk, doc=f"doc{i}", discipline="physics", index=0,
                span=Span(start=len(DOC_PREFIX), end=len(DOC_PREFIX) + len(text)), text=text)


# --- the HTTP backend --------------------------------------------------------------------------


def test_retries_after_429_honouring_retry_after(server):
    server.fail_first, server.fail_status, server.retry_after = 1, 429, "1"
    started = time.perf_counter()
    reply = msgspec.json.decode(backend(server).complete(HI, schema=None, params=PARAMS), type=Echo)
    assert reply.model == "model-a"
    assert server.total == 2
    assert time.perf_counter() - started >= 1.0  # waited as told, not the 10 ms backoff


def test_retries_after_500(server):
    server.fail_first, server.fail_status = 3, 500
    backend(server).complete(HI, schema=None, params=PARAMS)
    assert server.total == 4
    assert [e["status"] for e in server.log] == [500, 500, 500, 200]


def test_gives_up_after_max_retries(server):
    server.fail_first, server.fail_status = 100, 503
    with pytest.raises(StageError, match="kept failing: HTTP 503.*after 3 tries"):
        backend(server, max_retries=2).complete(HI, schema=None, params=PARAMS)
    assert server.total == 3


def test_client_error_is_not_retried_and_names_the_key_variable(server):
    server.fail_first, server.fail_status = 100, 401
    with pytest.raises(StageError) as err:
        backend(server, api_key_env="PRODA_TEST_KEY").complete(HI, schema=None, params=PARAMS)
    assert server.total == 1
    assert "HTTP 401" in err.value.message and "$PRODA_TEST_KEY" in err.value.hint


def test_dead_endpoint_is_a_clear_stage_error():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(StageError) as err:
        backend(base_url=url, max_retries=1).complete(HI, schema=None, params=PARAMS)
    message = str(err.value)
    assert f"endpoint {url}/chat/completions unreachable" in message
    assert "start the server or fix llm.base_url" in message
    assert "after 2 tries" in message


def test_timeout_is_retried_then_reported(server):
    server.delay_ms = 400
    with pytest.raises(StageError, match="llm.timeout"):
        backend(server, timeout=0.1, max_retries=1).complete(HI, schema=None, params=PARAMS)
    assert server.total == 2


def test_an_endpoint_that_never_answers_is_reported_hung_after_two_timeouts(server, capfd):
    """Accepting connections and answering nothing is not overload: two timeouts, not
    max_retries + 1 of them (minutes of silence at the default llm.timeout), and the wait is said."""
    server.delay_ms = 400
    with pytest.raises(StageError, match="accepted the connection but never answered") as err:
        backend(server, timeout=0.1, max_retries=5).complete(HI, schema=None, params=PARAMS)
    assert server.total == 2 and "llm.timeout" in str(err.value)
    assert capfd.readouterr().err.count("no answer within llm.timeout") == 1  # the real stderr: shown in a build


def test_a_slow_endpoint_that_has_answered_gets_every_retry(server):
    llm = backend(server, timeout=0.2, max_retries=3)
    llm.complete(HI, schema=None, params=PARAMS)  # it answers: a later timeout means busy, not hung
    server.delay_ms = 600
    with pytest.raises(StageError, match="kept failing"):
        llm.complete([{"role": "user", "content": "again"}], schema=None, params=PARAMS)
    assert server.total == 1 + 4


def test_api_key_is_read_at_call_time_and_never_kept(server, monkeypatch):
    llm = CachedLLM(backend(server, api_key_env="PRODA_TEST_KEY"), None)
    monkeypatch.setenv("PRODA_TEST_KEY", "first-secret")
    key_before = llm.key(HI, schema=None, params=PARAMS)
    llm.complete(HI, params=PARAMS)
    monkeypatch.setenv("PRODA_TEST_KEY", "second-secret")
    llm.complete(HI, params=PARAMS)
    assert [e["auth"] for e in server.log] == ["Bearer first-secret", "Bearer second-secret"]
    assert llm.key(HI, schema=None, params=PARAMS) == key_before
    assert "secret" not in repr(vars(llm.llm)) + llm.fingerprint()


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # a date in the past
    assert retry_after_seconds("soon") is None


def test_json_schema_request_is_sent(server):
    llm = cached(server)
    llm.complete_json(HI, Echo, params=PARAMS)
    sent = server.log[0]
    assert sent["model"] == "model-a"


# --- JSON validation and the repair round ------------------------------------------------------


@pytest.mark.parametrize("fault", ["malformed_first", "truncated_first"])
def test_bad_json_is_repaired_once(server, fault):
    setattr(server, fault, 1)
    con = duckdb.connect()
    llm = cached(server, con)
    assert llm.complete_json(HI, Echo, params=PARAMS).model == "model-a"
    assert server.total == 2 and llm.counters["calls"] == 2
    repair = server.log[1]["messages"]
    assert repair[:1] == HI and repair[1]["role"] == "assistant" and "not valid JSON" in repair[2]["content"]
    again = cached(server, con)  # a rerun replays both calls from the cache
    assert again.complete_json(HI, Echo, params=PARAMS).model == "model-a"
    assert server.total == 2 and again.counters == {"hits": 2, "misses": 0, "calls": 0, "errors": 0}


def test_json_still_bad_after_repair_fails_the_unit(server):
    server.malformed_first = 100
    with pytest.raises(LLMOutputError, match="invalid reply twice"):
        cached(server).complete_json(HI, Echo, params=PARAMS)
    assert server.total == 2  # exactly one repair round


def test_code_fences_are_tolerated():
    from proda.llm import parse_json

    assert parse_json('```json\n{"echo": "x", "model": "m"}\n```', Echo) == Echo(echo="x", model="m")


# --- the cache ---------------------------------------------------------------------------------


def test_second_run_makes_zero_calls(server, tmp_path):
    db = tmp_path / "proda.duckdb"
    cfg = ExtractConfig()

    def run() -> tuple[list, dict]:
        con = duckdb.connect(str(db))
        ex = LLMExtractor(backend(server), con, concurrency=4)
        chains = [c for cs in map_concurrent(lambda ch: ex.chains(ch, cfg), [corpus_chunk(i) for i in range(6)], 4)
                  for c in cs]
        statements = [s for ss in map_concurrent(lambda c: ex.statements(c, cfg), chains, 4) for s in ss]
        con.close()
        return [r.key for r in chains + statements], ex.llm.counters

    keys1, counters1 = run()
    calls = server.total
    keys2, counters2 = run()
    assert keys1 == keys2 and len(keys1) > 12
    assert calls == counters1["calls"] and counters1["misses"] == calls
    assert server.total == calls  # the second run called nothing
    assert counters2 == {"hits": calls, "misses": 0, "calls": 0, "errors": 0}


def test_a_reply_for_model_a_is_never_served_for_model_b(server):
    con = duckdb.connect()
    a = cached(server, con, model="model-a")
    b = cached(server, con, model="model-b")
    assert msgspec.json.decode(a.complete(HI, params=PARAMS), type=Echo).model == "model-a"
    assert msgspec.json.decode(b.complete(HI, params=PARAMS), type=Echo).model == "model-b"
    assert server.calls == {"model-a": 1, "model-b": 1}
    rows = con.execute("SELECT model, count(*) FROM llm_cache GROUP BY model ORDER BY model").fetchall()
    assert rows == [("model-a", 1), ("model-b", 1)]


def test_key_covers_weights_params_schema_and_template(server):
    llm = cached(server)
    key = llm.key(HI, schema=None, params=PARAMS, template="t1")
    assert llm.key(HI, schema=None, params={"temperature": 0, "max_tokens": 64}, template="t1") == key
    assert llm.key(HI, schema=None, params={**PARAMS, "temperature": 0.2}, template="t1") != key
    assert llm.key(HI, schema={"type": "object"}, params=PARAMS, template="t1") != key
    assert llm.key(HI, schema=None, params=PARAMS, template="t2") != key
    assert llm.key([{"role": "user", "content": "hi!"}], schema=None, params=PARAMS, template="t1") != key
    other_weights = cached(server, revision="sha-of-new-checkpoint")
    assert other_weights.key(HI, schema=None, params=PARAMS, template="t1") != key


def test_params_are_normalised():
    assert normalise_params({"temperature": 0, "max_tokens": 10}) == \
        normalise_params({"max_tokens": 10, "temperature": 0.0, "seed": 0})
    assert normalise_params({"temperature": 0.1 + 0.2})["temperature"] == 0.3


def test_errors_are_never_cached(server):
    server.fail_first, server.fail_status = 1, 500
    con = duckdb.connect()
    llm = cached(server, con, max_retries=0)
    with pytest.raises(StageError):
        llm.complete(HI, params=PARAMS)
    assert len(llm.cache) == 0 and llm.counters["errors"] == 1
    llm.complete(HI, params=PARAMS)  # called again: the failure was not remembered
    assert server.total == 2 and len(llm.cache) == 1


def test_a_parser_fix_reparses_without_calling(server, monkeypatch):
    con = duckdb.connect()
    cfg = ExtractConfig()
    chain = LLMExtractor(backend(server), con).chains(corpus_chunk(0), cfg)[0]
    before = LLMExtractor(backend(server), con).statements(chain, cfg)
    calls = server.total
    assert "teleports" not in {s.relation for s in before}
    monkeypatch.setattr(extract_llm, "map_relation", lambda r: "related_to" if r == "teleports" else map_relation(r))
    after = LLMExtractor(backend(server), con).statements(chain, cfg)
    assert server.total == calls and len(after) > len(before)


def test_identical_calls_in_flight_share_one_request(server):
    server.delay_ms = 200
    llm = cached(server)
    replies = map_concurrent(lambda _: llm.complete(HI, params=PARAMS), range(8), 8)
    assert len(set(replies)) == 1 and server.total == 1
    assert llm.counters["misses"] == 1 and llm.counters["hits"] == 7


def test_concurrent_calls_all_land_in_the_cache(server, tmp_path):
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    llm = cached(server, con)
    prompts = [[{"role": "user", "content": f"question {i}"}] for i in range(40)]
    map_concurrent(lambda m: llm.complete(m, params=PARAMS), prompts, 8)
    assert len(llm.cache) == 40 and server.total == 40
    again = cached(server, con)
    map_concurrent(lambda m: again.complete(m, params=PARAMS), prompts, 8)
    assert server.total == 40 and again.counters["hits"] == 40


def test_group_commit_under_contention(tmp_path):
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    cache = LLMCache(con)
    rows = [(f"key{i % 150}", "openai", "m", f"reply {i}") for i in range(300)]  # each key twice
    map_concurrent(lambda row: cache.put(*row), rows, 32)
    assert len(cache) == 150
    assert cache.get("key7") in ("reply 7", "reply 157")
    con.close()
    assert duckdb.connect(str(tmp_path / "c.duckdb")).execute("SELECT count(*) FROM llm_cache").fetchone() == (150,)


KILL_SCRIPT = textwrap.dedent("""
    import sys
    sys.path[:0] = [sys.argv[3], sys.argv[4]]
    import duckdb
    from fake_openai import messages_id
    from test_llm_openai import corpus_chunk
    from proda.config import ExtractConfig, LLMConfig
    from proda.extract.llm import LLMExtractor, map_concurrent

    db, url = sys.argv[1], sys.argv[2]
    cfg = LLMConfig(backend="openai", model="model-a", base_url=url, concurrency=4, max_retries=0)
    ex = LLMExtractor.from_config(cfg, duckdb.connect(db))
    inner = ex.llm.complete
    def complete(messages, **kw):
        out = inner(messages, **kw)  # returns once the reply is committed to the cache
        sys.stdout.write(f"finished {messages_id(messages)}\\n")  # one write: threads do not interleave
        sys.stdout.flush()
        return out
    ex.llm.complete = complete
    units = [corpus_chunk(i) for i in range(16)]
    def unit(chunk):
        return [s for c in ex.chains(chunk, ExtractConfig()) for s in ex.statements(c, ExtractConfig())]
    print("done", sum(map(len, map_concurrent(unit, units, cfg.concurrency))), flush=True)
""")


def test_kill_9_mid_run_repeats_no_finished_call(server, tmp_path):
    server.delay_ms = 60
    script = tmp_path / "run.py"
    script.write_text(KILL_SCRIPT)
    argv = [sys.executable, str(script), str(tmp_path / "proda.duckdb"), server.url, str(REPO),
            str(REPO / "tests")]
    env = {**os.environ, "PYTHONPATH": str(REPO)}

    first = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(first.stdout), daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while server.total < 20 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait()
    reader.join(5)
    assert first.returncode == -signal.SIGKILL, (first.returncode, server.total, first.stderr.read())
    finished = {m.group(1) for line in lines if (m := re.fullmatch(r"finished ([0-9a-f]{16})\n", line))}
    assert finished and not any(line.startswith("done") for line in lines), lines
    calls_before = server.total

    second = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1].startswith("done")
    again = {m: server.by_messages[m] for m in finished if server.by_messages[m] != 1}
    assert not again, (again, len(finished), calls_before)  # no finished call was made again
    repeated = [m for m, n in server.by_messages.items() if n > 1]
    assert len(repeated) <= 4, repeated  # at most the calls in flight (concurrency 4) at the kill
    assert server.total - calls_before < len(server.by_messages)  # the rerun resumed, not restarted


# --- registry, weights, prompts, helpers -------------------------------------------------------


def test_registry_names_the_missing_extra(monkeypatch):
    import importlib.util

    with pytest.raises(UsageError, match="unknown llm.backend 'opneai'") as err:
        get_llm(LLMConfig(backend="opneai", model="m"))
    assert "did you mean 'openai'" in err.value.hint
    with pytest.raises(UsageError, match="offline extractor"):
        get_llm(LLMConfig(backend="heuristic"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    with pytest.raises(UsageError) as err:
        get_llm(LLMConfig(backend="vllm", model="somewhere"))
    assert "pip install 'proda[vllm]'" in err.value.hint
    assert isinstance(get_llm(LLMConfig(backend="openai", model="m")), OpenAILLM)


def test_light_imports():
    code = ("import sys, proda.llm, proda.llm.cache, proda.llm.prompts, proda.extract.llm; "
            "print(sorted(m for m in ('torch', 'transformers', 'vllm', 'httpx', 'duckdb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "[]"


def test_weights_hash_is_trusted_while_size_and_mtime_hold(tmp_path, monkeypatch):
    monkeypatch.setenv("PRODA_HASH_CACHE", str(tmp_path / "hashes.json"))
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"A" * 1000)
    (model / "config.json").write_text("{}")
    (model / ".cache").mkdir()
    (model / ".cache" / "junk").write_text("ignored")
    first = hash_path(model)
    weights = model / "model.safetensors"
    stat = weights.stat()
    weights.write_bytes(b"B" * 1000)
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert hash_path(model) == first  # same (path, size, mtime): not read again
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert hash_path(model) != first
    assert (tmp_path / "hashes.json").exists()


def test_local_backends_fingerprint_their_weights(tmp_path, monkeypatch):
    pytest.importorskip("transformers")
    from proda.llm.hf import HFLLM

    monkeypatch.setenv("PRODA_HASH_CACHE", "off")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "w.bin").write_bytes(b"1")
    one = HFLLM(LLMConfig(backend="transformers", model=str(tmp_path / "m"))).fingerprint()
    import shutil

    shutil.copytree(tmp_path / "m", tmp_path / "moved" / "m")  # the path is not the identity
    assert HFLLM(LLMConfig(backend="transformers", model=str(tmp_path / "moved" / "m"))).fingerprint() == one
    (tmp_path / "m" / "w.bin").write_bytes(b"22")
    assert HFLLM(LLMConfig(backend="transformers", model=str(tmp_path / "m"))).fingerprint() != one
    with pytest.raises(UsageError, match="not a local model directory"):
        HFLLM(LLMConfig(backend="transformers", model=str(tmp_path / "nope"))).fingerprint()


def test_prompts_render_with_a_template_hash():
    messages, h = render("extract_chains.v1", discipline="physics", text="Some text.", min_steps=2, max_steps=6)
    assert [m["role"] for m in messages] == ["system", "user"]
    assert "Some text." in messages[1]["content"] and "{{" not in messages[1]["content"]
    assert len(h) == 32 and h != render("extract_statements.v1", discipline="d", process="p", steps="1. s",
                                        relations="causes")[1]
    with pytest.raises(ValueError, match="needs"):
        render("extract_chains.v1", discipline="physics")
    with pytest.raises(ValueError, match="no slot"):
        render("repair_json.v1", error="e", output="o")


def test_map_concurrent_keeps_order_and_raises():
    assert map_concurrent(lambda x: x * x, range(50), 8) == [x * x for x in range(50)]
    assert map_concurrent(lambda x: x, iter(range(5)), 1) == list(range(5))

    def boom(x):
        if x == 7:
            raise ValueError("seven")
        return x

    with pytest.raises(ValueError, match="seven"):
        map_concurrent(boom, range(20), 4)


# --- the extractor -----------------------------------------------------------------------------


def test_chains_are_anchored_in_document_coordinates(server):
    chunk = corpus_chunk(3)
    doc = DOC_PREFIX + chunk.text
    chains = LLMExtractor(backend(server)).chains(chunk, ExtractConfig())
    assert chains
    for chain in chains:
        assert chain.chunk == chunk.key and chain.doc == "doc3" and chain.discipline == "physics"
        for step in chain.steps:
            assert doc[step.span.start:step.span.end] == step.text


def test_statements_use_known_relations_and_quote_their_steps(server):
    chunk = corpus_chunk(1)
    doc = DOC_PREFIX + chunk.text
    ex = LLMExtractor(backend(server))
    chain = ex.chains(chunk, ExtractConfig())[0]
    statements = ex.statements(chain, ExtractConfig(window=2))
    assert statements and all(s.relation in RELATIONS for s in statements)
    assert ex.skipped["relation"] >= 1  # the fake's "teleports"
    for s in statements:
        assert s.chain == chain.key and doc[s.span.start:s.span.end] == s.quote
        assert len(s.steps) == 2 and s.steps == sorted(s.steps)


def test_a_chain_with_a_step_the_text_does_not_say_is_dropped(server):
    server.responder = lambda body: msgspec.json.encode({"chains": [{
        "process": "made up", "preconditions": [],
        "steps": [{"text": f"Heating reactor number0 raises coolant temperature sharply."},
                  {"text": "Quantum bananas synchronise interstellar telescopes."}]}]}).decode()
    ex = LLMExtractor(backend(server))
    assert ex.chains(corpus_chunk(0), ExtractConfig()) == [] and ex.skipped["unsupported_chain"] == 1


def test_a_paraphrased_step_becomes_its_source_sentence(server):
    server.responder = lambda body: msgspec.json.encode({"chains": [{
        "process": "power generation", "preconditions": ["a working reactor"],
        "steps": [{"text": "Coolant temperature is raised sharply by heating reactor number0"},
                  {"text": "the turbine vapour volume expands as coolant temperature rises"}]}]}).decode()
    chunk = corpus_chunk(0)
    (chain,) = LLMExtractor(backend(server)).chains(chunk, ExtractConfig())
    assert [s.text for s in chain.steps] == ["Heating reactor number0 raises coolant temperature sharply.",
                                             "Rising coolant temperature expands the turbine vapour volume."]
    server.responder = lambda body: msgspec.json.encode({"chains": [{
        "process": "p", "preconditions": [],
        "steps": [{"text": "Heating reactor number0 raises coolant temperature"},
                  {"text": "heating reactor number0 raises the coolant temperature sharply"}]}]}).decode()
    assert LLMExtractor(backend(server)).chains(corpus_chunk(0), ExtractConfig()) == []  # one step, twice
    assert chain.preconditions == ["a working reactor"]


def test_a_chain_the_llm_gives_no_statements_keeps_the_heuristic_ones(server):
    pytest.importorskip("proda.extract.heuristic")
    ex = LLMExtractor(backend(server))
    chain = ex.chains(corpus_chunk(0), ExtractConfig())[0]
    server.responder = lambda body: '{"statements": []}'
    statements = ex.statements(chain, ExtractConfig())
    assert statements and all(s.chain == chain.key and s.relation in RELATIONS for s in statements)
    assert ex.skipped["heuristic_statements"] == 1


def test_anchor_and_relation_mapping():
    text = "Water boils at high temperature.  Steam then drives the turbine blades. Unrelated closing remark."
    assert anchor("steam then drives the  turbine blades", text) == (34, 70)
    start, end = anchor("The turbine blades are driven by steam", text)
    assert text[start:end] == "Steam then drives the turbine blades."
    assert anchor("Quantum bananas synchronise telescopes", text) is None
    assert map_relation("Leads to") == "causes" and map_relation("IS-A") == "is_a"
    assert map_relation("teleports") is None


def test_concepts_are_canonicalised_then_defined(server):
    pytest.importorskip("proda.extract.heuristic")
    ex = LLMExtractor(backend(server), concurrency=4)
    chain = ex.chains(corpus_chunk(2), ExtractConfig())[0]
    statements = ex.statements(chain, ExtractConfig())
    concepts = ex.concepts("physics", statements)
    assert concepts
    assert [c.name for c in concepts] == sorted(c.name for c in concepts)
    for concept in concepts:
        assert concept.definition.endswith("is a thing the corpus describes.")
        assert concept.category == "entity"
        assert set(concept.statements) <= {s.key for s in statements}


def test_llm_categories_are_the_heuristic_vocabulary():
    from proda.extract import canon

    assert set(extract_llm.CATEGORIES) == set(canon._ORDER) | {"entity"}
