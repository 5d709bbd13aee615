"""Token boundaries exactly as lm-evaluation-harness draws them (no torch: shared by every scorer).

lm-eval (``TemplateLM._encode_pair`` / ``loglikelihood``, HFLM ``tok_encode``, v0.4.x):

* trailing whitespace of the context moves to the start of the continuation;
* ``whole = encode(context + continuation)``, ``ctx = encode(context)``, continuation tokens =
  ``whole[len(ctx):]`` — the model input is ``ctx + cont`` (not ``whole``);
* strings are encoded with the tokenizer's default special tokens (so a tokenizer that prepends BOS
  does so for both), unless ``add_special_tokens`` is given (lm-eval's ``add_bos_token``), and a string
  that already starts with the BOS text is encoded without special tokens;
* an empty context becomes ``[prefix_token_id]`` (BOS, else EOS) and the continuation is encoded
  without special tokens (if it begins with that token itself, that token is the context);
* when ``ctx + cont`` is longer than ``max_length + 1`` tokens the input is cut from the left.
"""

from __future__ import annotations

from typing import Any

Requests = list[tuple[str, list[str]]]


def prefix_token_id(tokenizer: Any) -> int:
    return tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id


def _encode_many(tokenizer: Any, strings: list[str], add_special_tokens: bool | None) -> list[list[int]]:
    """``tokenizer.encode`` of each string, with lm-eval's choice of special tokens, batched."""
    if not strings:
        return []
    if add_special_tokens is not None:
        return [list(ids) for ids in tokenizer(strings, add_special_tokens=add_special_tokens)["input_ids"]]
    bos_id = prefix_token_id(tokenizer)
    bos_text = tokenizer.decode([bos_id]) if bos_id is not None else None
    plain = [i for i, s in enumerate(strings) if not (bos_text and s.startswith(bos_text))]
    out: list[list[int]] = [[] for _ in strings]
    if plain:
        for i, ids in zip(plain, tokenizer([strings[i] for i in plain])["input_ids"]):
            out[i] = list(ids)
    plain_set = set(plain)
    rest = [i for i in range(len(strings)) if i not in plain_set]
    if rest:
        for i, ids in zip(rest, tokenizer([strings[i] for i in rest], add_special_tokens=False)["input_ids"]):
            out[i] = list(ids)
    return out


def encode_requests(tokenizer: Any, requests: Requests, add_special_tokens: bool | None = None
                    ) -> list[list[tuple[list[int], list[int]]]]:
    """Per request, per continuation: (context tokens, continuation tokens), as lm-eval has them.

    The continuations of a request share their context tokens (the trailing-space move depends on
    the context only), except in lm-eval's empty-context corner case.
    """
    contexts: list[str] = []
    wholes: list[str] = []
    for context, continuations in requests:
        stripped = context.rstrip()
        contexts.append(stripped)
        wholes.extend(context + c for c in continuations)  # == stripped + moved spaces + c
    ctx_ids = _encode_many(tokenizer, contexts, add_special_tokens)
    whole_ids = _encode_many(tokenizer, wholes, add_special_tokens)
    out: list[list[tuple[list[int], list[int]]]] = []
    k = 0
    for r, (context, continuations) in enumerate(requests):
        if context == "":
            prefix = prefix_token_id(tokenizer)
            conts = _encode_many(tokenizer, list(continuations), False)
            out.append([([prefix], c) if not c or c[0] != prefix else (c[:1], c[1:]) for c in conts])
        else:
            ctx = ctx_ids[r]
            out.append([(ctx, whole_ids[k + j][len(ctx):]) for j in range(len(continuations))])
        k += len(continuations)
    return out


def truncate(ctx: list[int], cont: list[int], max_length: int) -> tuple[list[int], list[int]]:
    """lm-eval's left truncation: keep the last ``max_length + 1`` tokens of ``ctx + cont``."""
    if len(cont) > max_length:
        raise ValueError(f"a continuation of {len(cont)} tokens exceeds the model's {max_length} positions")
    if len(ctx) + len(cont) <= max_length + 1:
        return ctx, cont
    keep = (ctx + cont)[-(max_length + 1):]
    return keep[:len(keep) - len(cont)], cont


def max_length(config: Any, tokenizer: Any, default: int = 2048) -> int:
    """The model's context length as lm-eval resolves it."""
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, attr, None)
        if value:
            return int(value)
    model_max = getattr(tokenizer, "model_max_length", None)
    if model_max and model_max < 1_000_000_000:
        return int(model_max)
    return default


def normalise_scores(total: float, continuation: str, n_tokens: int, mode: bool | str) -> float:
    """Length normalisation: False = the summed log-prob (lm-eval ``acc``).

    True / "char": divided by the option's length in characters, the continuation less one leading
    space — lm-eval's ``acc_norm`` with the default target delimiter (callers pass
    ``option_continuation(o) = " " + o``); "byte": by its UTF-8 bytes (``acc_bytes``); "token": by its
    number of tokens.
    """
    if mode is False or mode is None or mode == "none":
        return total
    text = continuation[1:] if continuation.startswith(" ") else continuation
    if mode is True or mode == "char":
        return total / max(1, len(text))
    if mode == "byte":
        return total / max(1, len(text.encode("utf-8")))
    if mode == "token":
        return total / max(1, n_tokens)
    raise ValueError(f"unknown normalisation {mode!r} (use False, True/'char', 'byte' or 'token')")
