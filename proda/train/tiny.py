"""The ``tiny`` trainer: a small Llama-architecture model trained from scratch on CPU in seconds.

* Tokenizer: byte-level BPE (``tokenizers``) trained on the raw corpus plus the training texts,
  ``cfg.vocab_size`` entries including ``<pad>``, ``<s>`` and ``</s>``; it prepends ``<s>`` when asked
  for special tokens (so the scorer, which — like lm-evaluation-harness — encodes with the tokenizer's
  defaults, sees the same shape as training). Saved as a ``PreTrainedTokenizerFast``.
* Model: ``LlamaForCausalLM`` from a ``LlamaConfig`` (hidden ``cfg.hidden_size``, ``cfg.layers``
  layers, ``cfg.heads`` heads, MLP ~2.7x hidden, tied embeddings, ``cfg.cutoff_len`` positions),
  initialised under ``torch.manual_seed(cfg.seed)``.
* Each text is trained as ``<s> text </s>``, cut at ``cfg.cutoff_len`` tokens, loss on every non-pad
  token. ``init_from`` continues a previous tiny checkpoint (its model and tokenizer; no new tokenizer).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _loop

if TYPE_CHECKING:
    from ..config import CompileConfig

VERSION = 1  # bump when the checkpoints this trainer writes change for the same inputs

SPECIAL_TOKENS = ("<pad>", "<s>", "</s>")


def train_tokenizer(texts: list[str], vocab_size: int, max_length: int) -> Any:
    """A byte-level BPE tokenizer trained on ``texts``, as a ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer, length=len(texts))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A $B", special_tokens=[("<s>", tok.token_to_id("<s>"))])
    return wrap_tokenizer(tok.to_str(), max_length)


def wrap_tokenizer(tokenizer_json: str, max_length: int) -> Any:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(tokenizer_json),
        pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        model_max_length=max_length, padding_side="right",
    )


def model_config(tokenizer: Any, cfg: CompileConfig) -> Any:
    from transformers import LlamaConfig

    hidden = cfg.hidden_size
    if hidden % cfg.heads:
        from ..errors import UsageError

        raise UsageError(f"compile.hidden_size={hidden} is not a multiple of compile.heads={cfg.heads}",
                         "pick a hidden size divisible by the number of heads")
    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden,
        intermediate_size=int(math.ceil(2.7 * hidden / 16) * 16),
        num_hidden_layers=cfg.layers,
        num_attention_heads=cfg.heads,
        num_key_value_heads=cfg.heads,
        max_position_embeddings=cfg.cutoff_len,
        rms_norm_eps=1e-5,
        initializer_range=0.02,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        attention_dropout=0.0,
        use_cache=True,
    )


def encode(tokenizer: Any, texts: list[str], cutoff_len: int) -> list[tuple[list[int], list[int]]]:
    """``<s> text </s>`` token ids cut at ``cutoff_len``; the labels are the ids (loss on every token)."""
    eos = tokenizer.eos_token_id
    out = []
    for ids in tokenizer(list(texts))["input_ids"]:
        ids = (list(ids) + [eos])[:cutoff_len]
        out.append((ids, ids))
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
    from transformers import AutoTokenizer, LlamaForCausalLM

    out_dir, state_dir = Path(out_dir), Path(state_dir)
    texts = list(texts)
    fp = _loop.fingerprint(
        trainer="tiny", version=VERSION, texts=texts, corpus=list(corpus) if init_from is None else [],
        cfg={k: v for k, v in msgspec.to_builtins(cfg).items() if k != "save_every"}, init_from=_loop.dir_fingerprint(init_from),
        epochs=float(epochs), learning_rate=float(learning_rate),
    )
    state = _loop.load_state(state_dir, fp)
    _loop.reproducible(state["threads"] if state else cfg.threads)

    if init_from is not None:
        tokenizer = AutoTokenizer.from_pretrained(init_from)
        model = LlamaForCausalLM.from_pretrained(init_from, dtype=torch.float32)
        extra: dict[str, Any] = {}
    else:
        if state is not None:
            tokenizer = wrap_tokenizer(state["tokenizer"], cfg.cutoff_len)
        else:
            tokenizer = train_tokenizer(list(corpus) + texts, cfg.vocab_size, cfg.cutoff_len)
        extra = {"tokenizer": tokenizer.backend_tokenizer.to_str()}
        torch.manual_seed(cfg.seed)
        model = LlamaForCausalLM(model_config(tokenizer, cfg))
    dev = _loop.device()
    model.to(dev)
    # eager attention: for short sequences it beats sdpa on CPU (and the saved config is unaffected)
    model.set_attn_implementation("eager")
    torch.manual_seed(cfg.seed)

    examples = encode(tokenizer, texts, cfg.cutoff_len)
    stats = _loop.train_loop(
        model, examples,
        batch_size=cfg.batch_size, epochs=epochs, learning_rate=learning_rate, seed=cfg.seed,
        save_every=cfg.save_every, state_dir=state_dir, fp=fp, pad_id=tokenizer.pad_token_id,
        on_step=on_step, state=state, extra_state=extra,
        autocast_dtype=_loop.autocast_dtype(cfg.precision, dev),
    )
    model.set_attn_implementation("sdpa")
    out_dir.mkdir(parents=True, exist_ok=True)
    model.to("cpu").save_pretrained(out_dir)
    _loop.save_tokenizer(tokenizer, out_dir)
    stats.update(trainer="tiny", vocab_size=len(tokenizer),
                 parameters=sum(p.numel() for p in model.parameters()), samples=len(texts))
    return stats
