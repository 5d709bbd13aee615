"""Synthetic data and throwaway local models for tests and benchmarks (nothing is downloaded).

* :func:`facts` — made-up "the capital of X is Y" facts, deterministic in the seed;
* :func:`fact_texts` / :func:`fact_corpus` / :func:`fact_probe` — training texts, a raw corpus and a
  4-option multiple-choice probe over the same facts, in the shared ``proda.text.format`` format;
* :func:`random_llama` — a randomly initialised small ``LlamaForCausalLM`` plus a byte-level BPE
  tokenizer trained on the fly, saved with ``save_pretrained`` (a stand-in for a local HF base model).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from proda.text.format import item_context, option_continuation, sample_text

_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "kr", "st", "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "ae", "ou"]
_CODAS = ["", "", "n", "r", "s", "l", "th", "sk"]


def _word(rng: random.Random, syllables: int) -> str:
    parts = [rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)]
    return "".join(parts).capitalize()


def facts(n: int = 200, seed: int = 0) -> list[tuple[str, str]]:
    """``n`` (country, capital) pairs of made-up, distinct names."""
    rng = random.Random(seed)
    seen: set[str] = set()
    out: list[tuple[str, str]] = []
    while len(out) < n:
        country, city = _word(rng, rng.choice((2, 3))) + rng.choice(["ia", "land", "or"]), _word(rng, 2)
        if country in seen or city in seen:
            continue
        seen.update((country, city))
        out.append((country, city))
    return out


def fact_prompt(country: str) -> str:
    return f"What is the capital of {country}?"


def fact_texts(pairs: list[tuple[str, str]]) -> list[str]:
    """One rendered training sample per fact."""
    return [sample_text(fact_prompt(c), f"{y}. The capital of {c} is {y}.") for c, y in pairs]


def fact_corpus(pairs: list[tuple[str, str]]) -> list[str]:
    return [" ".join(f"The capital of {c} is {y}." for c, y in pairs)]


def fact_probe(pairs: list[tuple[str, str]], options: int = 4, seed: int = 0
               ) -> list[tuple[str, list[str], int]]:
    """(context, continuations, answer index) per fact; distractors are other facts' capitals."""
    rng = random.Random(seed)
    cities = [y for _, y in pairs]
    out = []
    for c, y in pairs:
        choices = [y] + rng.sample([z for z in cities if z != y], options - 1)
        rng.shuffle(choices)
        out.append((item_context(fact_prompt(c)), [option_continuation(z) for z in choices], choices.index(y)))
    return out


def random_llama(path: Path, texts: list[str], *, hidden: int = 32, layers: int = 2, heads: int = 2,
                 vocab_size: int = 400, max_positions: int = 256, seed: int = 0,
                 chat_template: str | None = None) -> Path:
    """Save a random small Llama and a tokenizer trained on ``texts`` into ``path``."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from proda.train._loop import save_tokenizer
    from proda.train.tiny import train_tokenizer

    tokenizer = train_tokenizer(list(texts), vocab_size, max_positions)
    if chat_template is not None:
        tokenizer.chat_template = chat_template
    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=hidden * 3,
        num_hidden_layers=layers, num_attention_heads=heads, num_key_value_heads=heads,
        max_position_embeddings=max_positions, tie_word_embeddings=False,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    model = LlamaForCausalLM(config)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    save_tokenizer(tokenizer, path)
    return path


SIMPLE_CHAT_TEMPLATE = (
    "{% for m in messages %}<s>{{ m['role'] }}: {{ m['content'] }}</s>\n{% endfor %}"
    "{% if add_generation_prompt %}<s>assistant: {% endif %}"
)


def tokens_of(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text)["input_ids"])
