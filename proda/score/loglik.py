"""Multiple-choice log-likelihood with transformers, computing each item's context once.

For an item with context tokens ``C`` and continuations ``o1..ok`` the model reads one packed row

    C  o1[:-1]  o2[:-1]  ...  ok[:-1]

with explicit position ids (each option restarts at ``len(C)``) and a 4D attention mask under which
every option attends to the context and to itself only. The logits at the last context token and
at each option's own tokens give exactly the log-probabilities lm-eval would compute from the k
separate sequences ``C + oj`` (up to floating-point rounding), while the context is encoded once.
Rows are left-padded and several items are batched per forward pass; only the tail of each row
(where every scored position lies) goes through the LM head when the model supports
``logits_to_keep``.

Token boundaries follow lm-evaluation-harness exactly (see ``_encode.py``), so the argmax over
options is lm-eval's ``acc`` prediction (``normalise=True``: ``acc_norm``).
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

from ._encode import Requests, encode_requests, max_length, normalise_scores, truncate


def _has_tokenizer(path: Path) -> bool:
    return (path / "tokenizer_config.json").exists() or (path / "tokenizer.json").exists()


def load(model_dir: Path, *, device: str | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) from a full model directory or a peft LoRA adapter directory.

    An adapter directory (it holds ``adapter_config.json``) is loaded onto its base model
    (``base_model_name_or_path``); in float32 the adapter is merged into the weights for speed.
    On CPU the model runs in float32; on CUDA in the dtype of its checkpoint (lm-eval's ``auto``).
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from ..errors import UsageError

    hf_logging.disable_progress_bar()  # no "Loading weights" bar in proda's output (it has its own)
    model_dir = Path(model_dir)
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dtype: Any = "auto" if dev.type == "cuda" else torch.float32

    def from_pretrained(path: Path | str) -> Any:
        try:
            return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="sdpa")
        except (ValueError, ImportError):  # an architecture without sdpa support
            return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager")

    adapter_config = model_dir / "adapter_config.json"
    if adapter_config.exists():
        from peft import PeftModel

        base_path = json.loads(adapter_config.read_text(encoding="utf-8")).get("base_model_name_or_path")
        if not base_path or not Path(base_path).exists():
            raise UsageError(f"{model_dir}: the adapter's base model {base_path!r} is not a local directory",
                             "set compile.base_model to the local base model directory")
        model = PeftModel.from_pretrained(from_pretrained(base_path), model_dir)
        if next(model.parameters()).dtype == torch.float32:
            model = model.merge_and_unload()
        tokenizer = AutoTokenizer.from_pretrained(model_dir if _has_tokenizer(model_dir) else base_path)
    else:
        model = from_pretrained(model_dir)
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model.to(dev).eval()
    return model, tokenizer


def score(model_dir: Path, requests: Requests, *, batch_size: int = 32, normalise: bool | str = False,
          add_special_tokens: bool | None = None, device: str | None = None) -> list[list[float]]:
    """Log-likelihood of each continuation given its context, per request (see :func:`score_model`)."""
    from ..train._loop import set_threads

    set_threads()
    model, tokenizer = load(model_dir, device=device)
    return score_model(model, tokenizer, requests, batch_size=batch_size, normalise=normalise,
                       add_special_tokens=add_special_tokens)


def _logits_kwarg(model: Any) -> str | None:
    """The name under which ``model.forward`` takes the number of trailing positions to compute logits for."""
    target = model.get_base_model() if hasattr(model, "get_base_model") else model
    params = inspect.signature(target.forward).parameters
    for name in ("logits_to_keep", "num_logits_to_keep"):
        if name in params:
            return name
    return None


def score_model(model: Any, tokenizer: Any, requests: Requests, *, batch_size: int = 32,
                normalise: bool | str = False, add_special_tokens: bool | None = None
                ) -> list[list[float]]:
    """Per request ``(context, continuations)``: the summed log-prob of each continuation's tokens.

    ``batch_size`` is the number of items (packed rows, each holding all of an item's options) per
    forward pass.
    ``normalise``: False = sums (lm-eval ``acc``); True/"char" = per character of the option
    (``acc_norm``); "byte"; "token". ``add_special_tokens`` is lm-eval's ``add_bos_token`` (None =
    the tokenizer's default).
    """
    import torch

    encoded = encode_requests(tokenizer, requests, add_special_tokens)
    limit = max_length(model.config, tokenizer)
    # units: (context, [(request, option, continuation tokens)]) — one packed row each
    units: list[tuple[list[int], list[tuple[int, int, list[int]]]]] = []
    for r, pairs in enumerate(encoded):
        groups: dict[tuple[int, ...], list[tuple[int, int, list[int]]]] = {}
        for j, (ctx, cont) in enumerate(pairs):
            if not cont:
                raise ValueError(f"request {r}: continuation {j} {requests[r][1][j]!r} has no tokens")
            ctx, cont = truncate(ctx, cont, limit)
            groups.setdefault(tuple(ctx), []).append((r, j, cont))
        for ctx_key, options in groups.items():
            units.append((list(ctx_key), options))

    def row_length(unit: tuple[list[int], list[tuple[int, int, list[int]]]]) -> int:
        ctx, options = unit
        return len(ctx) + sum(len(c) - 1 for _, _, c in options)

    order = sorted(range(len(units)), key=lambda u: -row_length(units[u]))
    size = max(1, batch_size)
    batches = [order[k:k + size] for k in range(0, len(order), size)]

    totals: list[list[float]] = [[0.0] * len(conts) for _, conts in requests]
    lengths: list[list[int]] = [[0] * len(conts) for _, conts in requests]
    dev = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    keep_kwarg = _logits_kwarg(model)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0

    with torch.inference_mode():
        for batch in batches:
            width = max(row_length(units[u]) for u in batch)
            keep = max(1 + sum(len(c) - 1 for _, _, c in units[u][1]) for u in batch)
            id_rows: list[list[int]] = []
            pos_rows: list[list[int]] = []
            seg_rows: list[list[int]] = []
            rows_b: list[int] = []
            rows_t: list[int] = []
            targets: list[int] = []
            owners: list[int] = []
            owned: list[tuple[int, int]] = []
            for b, u in enumerate(batch):
                ctx, options = units[u]
                start = width - row_length(units[u])
                n = len(ctx)
                row_ids = [pad] * start + ctx
                row_pos = [0] * start + list(range(n))
                row_seg = [-1] * start + [0] * n
                at = start + n
                for k, (r, j, cont) in enumerate(options):
                    m = len(cont) - 1
                    row_ids.extend(cont[:-1])
                    row_pos.extend(range(n, n + m))
                    row_seg.extend([k + 1] * m)
                    owner = len(owned)
                    owned.append((r, j))
                    # cont[0] is predicted at the last context token, cont[t] at the option's token t-1
                    rows_b.extend([b] * len(cont))
                    rows_t.append(start + n - 1)
                    rows_t.extend(range(at, at + m))
                    targets.extend(cont)
                    owners.extend([owner] * len(cont))
                    lengths[r][j] = len(cont)
                    at += m
                id_rows.append(row_ids)
                pos_rows.append(row_pos)
                seg_rows.append(row_seg)
            ids = torch.tensor(id_rows, dtype=torch.long, device=dev)
            pos = torch.tensor(pos_rows, dtype=torch.long, device=dev)
            seg = torch.tensor(seg_rows, dtype=torch.long, device=dev)
            index = torch.arange(width, device=dev)
            causal = index[None, :] <= index[:, None]  # [query, key]
            valid = seg >= 0
            allowed = causal[None] & ((seg[:, None, :] == 0) | (seg[:, None, :] == seg[:, :, None]))
            allowed &= valid[:, None, :] & valid[:, :, None]
            allowed |= torch.eye(width, dtype=torch.bool, device=dev)[None]  # pad rows see themselves: no NaN
            mask = torch.zeros(allowed.shape, dtype=dtype, device=dev)
            mask.masked_fill_(~allowed, torch.finfo(dtype).min)
            kwargs: dict[str, Any] = {"use_cache": False}
            if keep_kwarg is not None:
                kwargs[keep_kwarg] = keep
            logits = model(input_ids=ids, attention_mask=mask[:, None], position_ids=pos, **kwargs).logits
            offset = width - logits.shape[1]
            picked = logits[torch.tensor(rows_b, device=dev), torch.tensor(rows_t, device=dev) - offset]
            logprobs = torch.log_softmax(picked.float(), dim=-1)
            token_lp = logprobs.gather(1, torch.tensor(targets, device=dev)[:, None])[:, 0]
            sums = torch.zeros(len(owned), dtype=torch.float64, device=dev)
            sums.index_add_(0, torch.tensor(owners, device=dev), token_lp.double())
            for (r, j), value in zip(owned, sums.tolist()):
                totals[r][j] = value

    return [
        [normalise_scores(totals[r][j], cont, lengths[r][j], normalise) for j, cont in enumerate(conts)]
        for r, (_, conts) in enumerate(requests)
    ]
