"""The ``lora`` trainer: peft LoRA adapters on any local Hugging Face causal-LM directory.

* Base: ``cfg.base_model`` (a local directory; nothing is downloaded), in bf16 on a GPU that supports
  it (``torch.cuda.is_bf16_supported()``), else float32; the adapters train in float32 under bf16
  autocast where the hardware has native bf16 (``cfg.precision``).
* Adapters: rank ``cfg.lora_rank``, alpha ``cfg.lora_alpha``, dropout ``cfg.lora_dropout`` on
  ``cfg.target_modules``, initialised under ``torch.manual_seed(cfg.seed)``. ``init_from`` (a previous
  adapter directory) continues that adapter instead (its own rank/alpha/targets are kept).
* Text: when ``cfg.chat_template`` and the tokenizer has a chat template, each sample becomes a
  user/assistant exchange and the loss is taken on the assistant part only; otherwise the plain
  rendered sample ``Q: <prompt>\\nA: <response>`` (tokenizer defaults, e.g. BOS, plus EOS) with the
  loss on every token. Training texts may also be given as ``(prompt, response)`` pairs; rendered
  strings are split back at the first ``\\nA: ``.
* Output: ``save_pretrained`` of the adapter (``adapter_config.json`` whose
  ``base_model_name_or_path`` is the resolved base directory, ``adapter_model.safetensors``) plus the
  tokenizer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _loop

if TYPE_CHECKING:
    from ..config import CompileConfig

VERSION = 1  # bump when the adapters this trainer writes change for the same inputs


def split_sample(text: str | tuple[str, str]) -> tuple[str, str] | None:
    """(prompt, response) of a rendered sample (``proda.text.format.sample_text``) or a pair."""
    if isinstance(text, tuple):
        return text
    if text.startswith("Q: ") and "\nA: " in text:
        prompt, response = text[3:].split("\nA: ", 1)
        return prompt, response
    return None


def _mask_head(tokenizer: Any, head: str, full: str) -> tuple[list[int], list[int]]:
    """Token ids of ``full`` and labels with the tokens lying wholly inside its prefix ``head`` masked.

    Character offsets, not a token prefix: a template's generation prompt often ends in a space
    that BPE merges into the first response token, and that token must be learned.
    """
    if not full.startswith(head):  # the template does not extend its own generation prompt
        ids = list(tokenizer(full, add_special_tokens=False)["input_ids"])
        return ids, list(ids)
    try:
        enc = tokenizer(full, add_special_tokens=False, return_offsets_mapping=True)
    except NotImplementedError:  # a slow tokenizer: no offsets, fall back on the token prefix
        ids = list(tokenizer(full, add_special_tokens=False)["input_ids"])
        head_ids = list(tokenizer(head, add_special_tokens=False)["input_ids"])
        if ids[:len(head_ids)] == head_ids:
            return ids, [-100] * len(head_ids) + ids[len(head_ids):]
        return ids, list(ids)
    ids = list(enc["input_ids"])
    labels = [tok if end > len(head) else -100 for tok, (_, end) in zip(ids, enc["offset_mapping"])]
    return ids, labels


def encode(tokenizer: Any, texts: Sequence[str | tuple[str, str]], cutoff_len: int, chat: bool
           ) -> list[tuple[list[int], list[int]]]:
    """(input ids, labels) per sample; labels are -100 where no loss is taken."""
    from ..text.format import sample_text

    use_chat = chat and bool(getattr(tokenizer, "chat_template", None))
    eos = tokenizer.eos_token_id
    out: list[tuple[list[int], list[int]]] = []
    for text in texts:
        parts = split_sample(text)
        if use_chat and parts is not None:
            prompt, response = parts
            user = [{"role": "user", "content": prompt}]
            head = tokenizer.apply_chat_template(user, tokenize=False, add_generation_prompt=True)
            full = tokenizer.apply_chat_template(
                user + [{"role": "assistant", "content": response}], tokenize=False)
            ids, labels = _mask_head(tokenizer, head, full)
        else:
            plain = sample_text(*parts) if isinstance(text, tuple) and parts else str(text)
            ids = list(tokenizer(plain)["input_ids"])
            if eos is not None and (not ids or ids[-1] != eos):
                ids.append(eos)
            labels = list(ids)
        ids, labels = ids[:cutoff_len], labels[:cutoff_len]
        if any(label != -100 for label in labels[1:]):
            out.append((ids, labels))
    return out


def train(
    texts: list[str],
    out_dir: Path,
    cfg: CompileConfig,
    *,
    corpus: list[str],
    init_from: Path | None = None,
    epochs: float,
    learning_rate: float,
    state_dir: Path,
    on_step: Callable[[int, float, float], None] | None = None,
) -> dict:
    import msgspec
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ..errors import UsageError

    if not cfg.base_model:
        raise UsageError("the lora trainer needs compile.base_model",
                         "set compile.base_model to a local Hugging Face model directory")
    base = Path(cfg.base_model).expanduser().resolve()
    if not (base / "config.json").exists():
        raise UsageError(f"compile.base_model {cfg.base_model!r} is not a local Hugging Face model directory",
                         "point it at a directory written by save_pretrained (config.json, weights, tokenizer)")
    out_dir, state_dir = Path(out_dir), Path(state_dir)
    texts = list(texts)
    fp = _loop.fingerprint(
        trainer="lora", version=VERSION, texts=[list(t) if isinstance(t, tuple) else t for t in texts],
        cfg={k: v for k, v in msgspec.to_builtins(cfg).items() if k != "save_every"}, base=_loop.dir_fingerprint(base),
        init_from=_loop.dir_fingerprint(init_from), epochs=float(epochs), learning_rate=float(learning_rate),
    )
    state = _loop.load_state(state_dir, fp)
    _loop.reproducible(state["threads"] if state else cfg.threads)
    dev = _loop.device()
    bf16_weights = dev.type == "cuda" and cfg.precision != "fp32" and torch.cuda.is_bf16_supported()
    try:
        model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.bfloat16 if bf16_weights else torch.float32)
    except (OSError, ValueError, KeyError) as exc:  # a broken config.json, missing weights, an unknown model type
        raise UsageError(f"compile.base_model {cfg.base_model!r}: transformers cannot load it: "
                         f"{str(exc).splitlines()[0][:300]}",
                         "point it at a complete save_pretrained folder (config.json, the weights, the "
                         "tokenizer files) of a causal language model") from exc
    torch.manual_seed(cfg.seed)
    if init_from is not None:
        model = PeftModel.from_pretrained(model, Path(init_from), is_trainable=True)
    else:
        model = get_peft_model(model, LoraConfig(
            r=cfg.lora_rank, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
            target_modules=list(cfg.target_modules), bias="none", task_type="CAUSAL_LM",
        ))
    tok_dir = Path(init_from) if init_from is not None and (Path(init_from) / "tokenizer_config.json").exists() \
        else base
    try:
        tokenizer = AutoTokenizer.from_pretrained(tok_dir)
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"{tok_dir}: transformers cannot load its tokenizer: {str(exc).splitlines()[0][:300]}",
                         "the model folder needs its tokenizer files (tokenizer.json or the model's own)") from exc
    model.to(dev)
    torch.manual_seed(cfg.seed)

    examples = encode(tokenizer, texts, cfg.cutoff_len, cfg.chat_template)
    pad = next((t for t in (tokenizer.pad_token_id, tokenizer.eos_token_id) if t is not None), 0)
    stats = _loop.train_loop(
        model, examples,
        batch_size=cfg.batch_size, epochs=epochs, learning_rate=learning_rate, seed=cfg.seed,
        save_every=cfg.save_every, state_dir=state_dir, fp=fp, pad_id=pad, on_step=on_step, state=state,
        autocast_dtype=_loop.autocast_dtype(cfg.precision, dev),
    )
    for peft_config in model.peft_config.values():
        peft_config.base_model_name_or_path = str(base)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    _loop.save_tokenizer(tokenizer, out_dir)
    stats.update(
        trainer="lora", samples=len(texts), examples=len(examples),
        chat_template=bool(cfg.chat_template and getattr(tokenizer, "chat_template", None)),
        trainable_parameters=sum(p.numel() for p in model.parameters() if p.requires_grad),
    )
    return stats
