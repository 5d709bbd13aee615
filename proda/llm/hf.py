"""A local transformers model directory (``save_pretrained`` layout), greedy generation.

Loaded on the first call, so a fully cached build never imports torch. Calls are serialised by a
lock (one model, one forward at a time); use the ``vllm`` backend or ``vllm serve`` for throughput.
transformers has no constrained decoding, so a JSON schema is stated in the prompt instead and the
reply is validated (with one repair round) by :class:`proda.llm.cache.CachedLLM` like any other.
A model without a chat template (e.g. one proda trained) gets the ``Q: …\\nA:`` format of
:mod:`proda.text.format`.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from ..config import LLMConfig
from ..errors import StageError
from ..text.format import item_context
from . import local_fingerprint


class HFLLM:
    backend = "transformers"

    def __init__(self, cfg: LLMConfig):
        self.cfg = cfg
        self.model = cfg.model
        self._lock = threading.Lock()
        self._tok: Any = None
        self._lm: Any = None

    def fingerprint(self) -> str:
        return local_fingerprint(self.backend, self.cfg)

    def _load(self) -> None:
        import torch  # noqa: PLC0415
        from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: PLC0415

        try:
            self._tok = AutoTokenizer.from_pretrained(self.cfg.model)
            lm = AutoModelForCausalLM.from_pretrained(self.cfg.model, dtype="auto")
            if self.cfg.adapter:
                from peft import PeftModel  # noqa: PLC0415
                lm = PeftModel.from_pretrained(lm, self.cfg.adapter)
        except (OSError, ValueError) as exc:
            raise StageError(f"transformers could not load {self.cfg.model}: {exc}",
                             "llm.model must be a save_pretrained folder with its tokenizer") from exc
        self._lm = lm.to("cuda" if torch.cuda.is_available() else "cpu").eval()

    def prompt(self, messages: list[dict], schema: dict | None) -> str:
        if schema is not None:
            note = f"\n\nAnswer with JSON that matches this JSON schema:\n{json.dumps(schema)}"
            messages = messages[:-1] + [{**messages[-1], "content": messages[-1]["content"] + note}]
        if getattr(self._tok, "chat_template", None):
            return self._tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return item_context("\n\n".join(m["content"] for m in messages if m["role"] != "assistant"))

    def complete(self, messages: list[dict], *, schema: dict | None, params: dict) -> str:
        with self._lock:
            if self._lm is None:
                self._load()
            import torch  # noqa: PLC0415

            text = self.prompt(messages, schema)
            inputs = self._tok(text, return_tensors="pt", add_special_tokens=self._tok.chat_template is None)
            inputs = {k: v.to(self._lm.device) for k, v in inputs.items()}
            temperature = float(params.get("temperature", 0.0))
            sampling: dict[str, Any] = {"do_sample": False}
            if temperature > 0:
                torch.manual_seed(int(params.get("seed", 0)))
                sampling = {"do_sample": True, "temperature": temperature, "top_p": params.get("top_p", 1.0)}
            pad = self._tok.pad_token_id if self._tok.pad_token_id is not None else self._tok.eos_token_id
            with torch.no_grad():
                out = self._lm.generate(**inputs, max_new_tokens=int(params.get("max_tokens", 256)),
                                        pad_token_id=pad, **sampling)
            return self._tok.decode(out[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
