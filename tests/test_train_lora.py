"""The LoRA trainer on a throwaway local base model (a random 2-layer Llama saved in the test)."""

from __future__ import annotations

import hashlib
import json
import math

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("peft")

from proda.config import CompileConfig  # noqa: E402
from proda.errors import UsageError  # noqa: E402
from proda.score import get_scorer  # noqa: E402
from proda.train import get_trainer  # noqa: E402
from synthetic import SIMPLE_CHAT_TEMPLATE, fact_probe, fact_texts, facts, random_llama  # noqa: E402

pytestmark = pytest.mark.slow

PAIRS = facts(40, seed=5)
TEXTS = fact_texts(PAIRS)


def lora_cfg(base, **over):
    fields = dict(trainer="lora", base_model=str(base), batch_size=8, cutoff_len=64, lora_rank=8,
                  lora_alpha=16, lora_dropout=0.05, target_modules=["q_proj", "v_proj", "lm_head"], save_every=4, seed=0)
    fields.update(over)
    return CompileConfig(**fields)


def digest_dir(path):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.iterdir()) if p.is_file()}


def adapter(path):
    from safetensors.torch import load_file

    return load_file(str(path / "adapter_model.safetensors"))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return random_llama(tmp_path_factory.mktemp("base") / "llama", TEXTS, hidden=32, layers=2, heads=2)


@pytest.fixture(scope="module")
def trained(base, tmp_path_factory):
    root = tmp_path_factory.mktemp("lora")
    before = digest_dir(base)
    losses: list[float] = []
    stats = get_trainer("lora")(TEXTS, root / "out", lora_cfg(base), corpus=[], epochs=5, learning_rate=3e-2,
                                state_dir=root / "state", on_step=lambda s, loss, lr: losses.append(loss))
    return {"stats": stats, "losses": losses, "out": root / "out", "before": before}


def test_adapter_is_saved_with_its_tokenizer(base, trained):
    out = trained["out"]
    for name in ("adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert (out / name).exists(), name
    config = json.loads((out / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == str(base.resolve())
    assert config["r"] == 8 and config["lora_alpha"] == 16
    assert set(config["target_modules"]) == {"q_proj", "v_proj", "lm_head"}
    assert digest_dir(base) == trained["before"]  # the base model is never written
    assert not trained["stats"]["chat_template"]


def test_loss_decreases(trained):
    losses, stats = trained["losses"], trained["stats"]
    assert stats["steps"] == len(losses) == 25
    assert sum(losses[-5:]) / 5 < sum(losses[:5]) / 5 - 1.0, losses
    assert stats["trainable_parameters"] > 0 and stats["tokens"] > 0


def test_scoring_an_adapter_differs_from_its_base(base, trained):
    probe = fact_probe(PAIRS)
    requests = [(c, o) for c, o, _ in probe]
    score = get_scorer("loglik")
    tuned = score(trained["out"], requests, batch_size=16, normalise=False)
    plain = score(base, requests, batch_size=16, normalise=False)
    assert len(tuned) == len(plain) == len(probe)
    assert sum(sum(row) for row in tuned) > sum(sum(row) for row in plain)  # the samples got likelier


def test_continue_from_an_adapter(base, trained, tmp_path):
    stats = get_trainer("lora")(TEXTS[:16], tmp_path / "child", lora_cfg(base, lora_rank=4), corpus=[],
                                init_from=trained["out"], epochs=1, learning_rate=1e-2, state_dir=tmp_path / "s")
    assert stats["steps"] == 2 and math.isfinite(stats["final_loss"])
    config = json.loads((tmp_path / "child" / "adapter_config.json").read_text())
    assert config["r"] == 8  # the parent adapter's shape is kept
    a, b = adapter(trained["out"]), adapter(tmp_path / "child")
    assert a.keys() == b.keys() and any(not (a[k] == b[k]).all() for k in a)


def test_resumed_run_ends_with_identical_adapter(base, tmp_path):
    cfg = lora_cfg(base)  # dropout 0.05: the RNG state must be restored too
    kwargs = dict(corpus=[], epochs=2, learning_rate=1e-2)
    train = get_trainer("lora")
    train(TEXTS, tmp_path / "whole", cfg, state_dir=tmp_path / "s1", **kwargs)

    def kill(step, loss, lr):
        if step == 7:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(TEXTS, tmp_path / "cut", cfg, state_dir=tmp_path / "s2", on_step=kill, **kwargs)
    stats = train(TEXTS, tmp_path / "cut", cfg, state_dir=tmp_path / "s2", **kwargs)
    assert stats["resumed_from"] == 4 and stats["steps"] == 10
    a, b = adapter(tmp_path / "whole"), adapter(tmp_path / "cut")
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)


def test_chat_template_masks_the_prompt(tmp_path):
    from transformers import AutoTokenizer

    from proda.train.lora import encode

    base = random_llama(tmp_path / "chat", TEXTS, hidden=32, layers=2, heads=2, chat_template=SIMPLE_CHAT_TEMPLATE)
    tokenizer = AutoTokenizer.from_pretrained(base)
    ids, labels = encode(tokenizer, TEXTS[:1], 128, chat=True)[0]
    masked = labels.index(next(label for label in labels if label != -100))
    assert masked > 0 and all(label == -100 for label in labels[:masked]) and labels[masked:] == ids[masked:]
    # the template's trailing space merges into the first response token, which is learned
    assert tokenizer.decode(ids[:masked]).endswith("assistant:")
    assert tokenizer.decode(ids[masked:]).startswith(" " + PAIRS[0][1])
    plain_ids, plain_labels = encode(tokenizer, TEXTS[:1], 128, chat=False)[0]
    assert plain_labels == plain_ids and tokenizer.decode(plain_ids).startswith("<s>Q: ")
    # (prompt, response) pairs are accepted as well as rendered strings
    assert encode(tokenizer, [(f"What is the capital of {PAIRS[0][0]}?", f"{PAIRS[0][1]}. The capital of "
                                f"{PAIRS[0][0]} is {PAIRS[0][1]}.")], 128, chat=True)[0] == (ids, labels)

    stats = get_trainer("lora")(TEXTS[:16], tmp_path / "out", lora_cfg(base), corpus=[], epochs=1,
                                learning_rate=1e-2, state_dir=tmp_path / "s")
    assert stats["chat_template"] and stats["steps"] == 2


def test_missing_base_model_is_a_usage_error(tmp_path):
    train = get_trainer("lora")
    with pytest.raises(UsageError, match="base_model"):
        train(TEXTS, tmp_path / "o", CompileConfig(trainer="lora"), corpus=[], epochs=1, learning_rate=1e-3,
              state_dir=tmp_path / "s")
    with pytest.raises(UsageError, match="not a local"):
        train(TEXTS, tmp_path / "o", lora_cfg(tmp_path / "nowhere"), corpus=[], epochs=1, learning_rate=1e-3,
              state_dir=tmp_path / "s")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(UsageError, match="transformers cannot load it"):
        train(TEXTS, tmp_path / "o", lora_cfg(broken), corpus=[], epochs=1, learning_rate=1e-3,
              state_dir=tmp_path / "s")
