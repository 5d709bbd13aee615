"""The offline vLLM engine on a local model directory, with JSON-schema structured outputs.

The engine is loaded on the first call, not at construction, so a build whose every call is cached
never loads it. vLLM's ``LLM`` is not thread-safe and wants large batches, so callers' threads hand
their requests to one worker thread that batches whatever is waiting into one ``LLM.chat`` call.

Structured outputs: ``SamplingParams(structured_outputs=StructuredOutputsParams(json=schema))`` since
vLLM 0.12 (the installed 0.32 line); ``guided_decoding=GuidedDecodingParams(json=schema)`` before.

Try it alone (vLLM starts worker processes: keep the ``__main__`` guard)::

    if __name__ == "__main__":
        from proda.config import LLMConfig
        from proda.llm import get_llm
        llm = get_llm(LLMConfig(backend="vllm", model="path/to/model"))
        print(llm.complete([{"role": "user", "content": "hi"}], schema=None, params={"max_tokens": 8}))
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import Any

from ..config import LLMConfig
from ..errors import StageError
from . import local_fingerprint

MAX_BATCH = 256


def sampling_params(params: dict, schema: dict | None) -> Any:
    """vLLM ``SamplingParams`` for our params, with whichever structured-output API is installed."""
    from vllm import SamplingParams  # noqa: PLC0415

    kwargs = {k: v for k, v in params.items()
              if k in ("temperature", "top_p", "top_k", "min_p", "max_tokens", "seed", "stop",
                       "presence_penalty", "frequency_penalty", "repetition_penalty")}
    if schema is not None:
        try:
            from vllm.sampling_params import StructuredOutputsParams as Params  # noqa: PLC0415
            field = "structured_outputs"
        except ImportError:  # vLLM < 0.12
            from vllm.sampling_params import GuidedDecodingParams as Params  # noqa: PLC0415
            field = "guided_decoding"
        kwargs[field] = Params(json=schema)
    return SamplingParams(**kwargs)


class VLLMEngine:
    backend = "vllm"

    def __init__(self, cfg: LLMConfig):
        self.cfg = cfg
        self.model = cfg.model
        self._engine: Any = None
        self._load_error: BaseException | None = None
        self._lora: Any = None
        self._queue: queue.Queue = queue.Queue()
        self._start = threading.Lock()
        self._worker: threading.Thread | None = None

    def fingerprint(self) -> str:
        return local_fingerprint(self.backend, self.cfg)

    def _load(self) -> None:
        from vllm import LLM  # noqa: PLC0415

        args = {"seed": 0, **self.cfg.engine_args}
        if "structured_outputs_config" not in args:
            try:  # compact JSON (engine-wide in vLLM): a weak model cannot pad with whitespace to max_tokens
                from vllm.config import StructuredOutputsConfig  # noqa: PLC0415
                args["structured_outputs_config"] = StructuredOutputsConfig(backend="xgrammar",
                                                                            disable_any_whitespace=True)
            except ImportError:  # vLLM < 0.12
                pass
        if self.cfg.adapter:
            from vllm.lora.request import LoRARequest  # noqa: PLC0415
            args.setdefault("enable_lora", True)
            self._lora = LoRARequest("adapter", 1, self.cfg.adapter)
        try:
            self._engine = LLM(model=self.cfg.model, **args)
        except Exception as exc:  # vLLM raises many kinds; the user needs the message and a next step
            raise StageError(f"vLLM could not load {self.cfg.model}: {exc}",
                             "set llm.engine_args (e.g. gpu_memory_utilization, max_model_len, dtype)") from exc

    def _ensure_worker(self) -> None:
        with self._start:
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, name="proda-vllm", daemon=True)
                self._worker.start()

    def complete(self, messages: list[dict], *, schema: dict | None, params: dict) -> str:
        self._ensure_worker()
        done: Future = Future()
        self._queue.put((messages, sampling_params(params, schema), done))
        return done.result()

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                if self._load_error is not None:
                    raise self._load_error  # a failed load is not retried for every batch
                if self._engine is None:
                    try:
                        self._load()
                    except BaseException as exc:
                        self._load_error = exc
                        raise
                outputs = self._engine.chat([m for m, _, _ in batch], [p for _, p, _ in batch],
                                            use_tqdm=False, lora_request=self._lora)
                for (_, _, done), out in zip(batch, outputs, strict=True):
                    done.set_result(out.outputs[0].text)
            except BaseException as exc:  # every waiting caller learns why
                for _, _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
