"""The transformers backend on a tiny random Llama made here (no downloads), through the cache."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from proda.config import LLMConfig
from proda.llm import get_llm
from proda.llm.cache import CachedLLM, LLMCache

CHAT_TEMPLATE = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}assistant:{% endif %}")


def tiny_model(folder: Path, chat_template: bool = True) -> Path:
    """A random-initialised 2-layer Llama and a word-level tokenizer, saved with save_pretrained.

    Head size 64: vLLM's CPU attention rejects 16."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast
    import torch

    # byte-level BPE: every string (JSON included) has a spelling, as structured decoding needs
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    corpus = ['{"answer": "yes"}', '{"answer": "no"}', "the question is water heat energy cell"] * 8
    tok.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["<unk>", "<s>", "</s>", "<pad>"],
                                                       initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>")
    if chat_template:
        fast.chat_template = CHAT_TEMPLATE
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(fast), hidden_size=128, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                         max_position_embeddings=512, bos_token_id=fast.bos_token_id,
                                         eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id))
    model.save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return tiny_model(tmp_path_factory.mktemp("tiny"))


def test_greedy_generation_is_deterministic_and_cached(model_dir, monkeypatch):
    monkeypatch.setenv("PRODA_HASH_CACHE", "off")
    cfg = LLMConfig(backend="transformers", model=str(model_dir))
    con = duckdb.connect()
    messages = [{"role": "user", "content": "the question is water heat"}]
    first = CachedLLM(get_llm(cfg), LLMCache(con))
    text = first.complete(messages, params={"max_tokens": 6})
    assert isinstance(text, str) and first.counters["calls"] == 1
    assert first.llm.complete(messages, schema=None, params={"max_tokens": 6, "temperature": 0.0, "top_p": 1.0,
                                                             "seed": 0}) == text
    again = CachedLLM(get_llm(cfg), LLMCache(con))
    assert again.complete(messages, params={"max_tokens": 6}) == text
    assert again.counters["hits"] == 1 and again.llm._lm is None  # a cached build never loads the model


def test_schema_goes_into_the_prompt_and_plain_models_get_q_a(model_dir, tmp_path):
    llm = get_llm(LLMConfig(backend="transformers", model=str(model_dir)))
    llm.complete([{"role": "user", "content": "yes"}], schema=None, params={"max_tokens": 1})
    prompt = llm.prompt([{"role": "user", "content": "yes"}], {"type": "object"})
    assert prompt.startswith("user: yes") and '{"type": "object"}' in prompt and prompt.endswith("assistant:")
    plain = get_llm(LLMConfig(backend="transformers", model=str(tiny_model(tmp_path / "plain", False))))
    plain.complete([{"role": "user", "content": "yes"}], schema=None, params={"max_tokens": 1})
    assert plain.prompt([{"role": "user", "content": "yes"}], None) == "Q: yes\nA:"
