"""The tiny trainer: it learns, it saves an HF layout, it resumes bit-identically, it continues."""

from __future__ import annotations

import importlib.util
import math

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from proda.config import CompileConfig  # noqa: E402
from proda.errors import UsageError  # noqa: E402
from proda.score import get_scorer, predictions  # noqa: E402
from proda.train import get_trainer, trainer_version  # noqa: E402
from synthetic import fact_corpus, fact_probe, fact_texts, facts  # noqa: E402

FACTS = 200
pytestmark = pytest.mark.slow

SMALL = dict(vocab_size=512, hidden_size=64, layers=2, heads=4, cutoff_len=64, batch_size=16, seed=0)


def weights(path):
    from safetensors.torch import load_file

    return load_file(str(path / "model.safetensors"))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One training run on 200 synthetic facts, shared by the tests of this module (~20 s on 2 cores)."""
    root = tmp_path_factory.mktemp("tiny")
    pairs = facts(FACTS, seed=0)
    cfg = CompileConfig(**SMALL, save_every=100)
    steps: list[tuple[int, float, float]] = []
    stats = get_trainer("tiny")(
        fact_texts(pairs), root / "out", cfg, corpus=fact_corpus(pairs), epochs=30, learning_rate=1e-2,
        state_dir=root / "state", on_step=lambda step, loss, lr: steps.append((step, loss, lr)))
    return {"pairs": pairs, "cfg": cfg, "stats": stats, "steps": steps, "out": root / "out", "root": root}


def test_loss_decreases_and_steps_are_reported(run):
    steps, stats = run["steps"], run["stats"]
    assert [s for s, _, _ in steps] == list(range(1, stats["steps"] + 1))
    assert stats["steps"] == math.ceil(FACTS / SMALL["batch_size"]) * 30
    first = sum(loss for _, loss, _ in steps[:10]) / 10
    last = sum(loss for _, loss, _ in steps[-10:]) / 10
    assert last < first / 4, (first, last)
    lrs = [lr for _, _, lr in steps]
    assert lrs[0] < max(lrs) and lrs[-1] < max(lrs) / 5  # warm-up, then decay
    assert max(lrs) == pytest.approx(1e-2)
    for key in ("steps", "tokens", "seconds", "tokens_per_s", "final_loss", "first_loss", "resumed_from"):
        assert key in stats
    assert stats["tokens"] > 0 and stats["tokens_per_s"] > 0 and stats["resumed_from"] == 0
    assert stats["final_loss"] == pytest.approx(sum(loss for _, loss, _ in steps[-20:]) / 20)


def test_checkpoint_is_a_hugging_face_layout(run):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out = run["out"]
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        assert (out / name).exists(), name
    model = AutoModelForCausalLM.from_pretrained(out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    assert type(model).__name__ == "LlamaForCausalLM"
    assert model.config.hidden_size == 64 and model.config.num_hidden_layers == 2
    assert model.config.max_position_embeddings == 64
    assert model.config.vocab_size == len(tokenizer) <= 512
    assert {tokenizer.pad_token, tokenizer.bos_token, tokenizer.eos_token} == {"<pad>", "<s>", "</s>"}
    ids = tokenizer("Q: hello")["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and tokenizer.decode(ids[1:]) == "Q: hello"


def test_probe_accuracy_far_above_chance(run):
    probe = fact_probe(run["pairs"], options=4, seed=1)
    scores = get_scorer("loglik")(run["out"], [(c, o) for c, o, _ in probe], batch_size=32, normalise=False)
    accuracy = sum(p == a for p, (_, _, a) in zip(predictions(scores), probe)) / len(probe)
    assert accuracy >= 0.8, accuracy  # chance is 0.25


def test_resumed_run_ends_with_identical_weights(tmp_path):
    pairs = facts(40, seed=3)
    texts = fact_texts(pairs)
    cfg = CompileConfig(**{**SMALL, "hidden_size": 32, "batch_size": 8}, save_every=4)  # 5 steps/epoch
    train = get_trainer("tiny")
    kwargs = dict(corpus=fact_corpus(pairs), epochs=3, learning_rate=3e-3)

    whole = train(texts, tmp_path / "whole", cfg, state_dir=tmp_path / "state-whole", **kwargs)
    assert whole["steps"] == 15

    class Killed(Exception):
        pass

    def kill_at_6(step, loss, lr):
        if step == 6:
            raise Killed

    with pytest.raises(Killed):
        train(texts, tmp_path / "cut", cfg, state_dir=tmp_path / "state", on_step=kill_at_6, **kwargs)
    assert not (tmp_path / "cut").exists()
    seen: list[int] = []
    resumed = train(texts, tmp_path / "cut", cfg, state_dir=tmp_path / "state",
                    on_step=lambda step, loss, lr: seen.append(step), **kwargs)
    assert resumed["resumed_from"] == 4 and seen == list(range(5, 16))
    a, b = weights(tmp_path / "whole"), weights(tmp_path / "cut")
    assert a.keys() == b.keys()
    assert all((a[k] == b[k]).all() for k in a)
    assert (tmp_path / "whole" / "tokenizer.json").read_text() == (tmp_path / "cut" / "tokenizer.json").read_text()

    # a state left by a different run (another learning rate) is not resumed
    other = train(texts, tmp_path / "other", cfg, state_dir=tmp_path / "state",
                  corpus=kwargs["corpus"], epochs=3, learning_rate=1e-3)
    assert other["resumed_from"] == 0


def test_continue_from_a_checkpoint(run, tmp_path):
    parent = run["out"]
    patch = fact_texts(run["pairs"][:20])
    stats = get_trainer("tiny")(patch, tmp_path / "child", run["cfg"], corpus=["ignored: no new tokenizer"],
                                init_from=parent, epochs=1, learning_rate=1e-3, state_dir=tmp_path / "state")
    assert stats["steps"] == 2 and math.isfinite(stats["final_loss"])
    assert (tmp_path / "child" / "tokenizer.json").read_text() == (parent / "tokenizer.json").read_text()
    a, b = weights(parent), weights(tmp_path / "child")
    assert a.keys() == b.keys() and any(not (a[k] == b[k]).all() for k in a)


def test_tokenizer_training_is_deterministic():
    from proda.train.tiny import train_tokenizer

    texts = fact_texts(facts(50)) + fact_corpus(facts(50))
    one = train_tokenizer(texts, 400, 64).backend_tokenizer.to_str()
    two = train_tokenizer(texts, 400, 64).backend_tokenizer.to_str()
    assert one == two


def test_registry_errors(monkeypatch):
    with pytest.raises(UsageError, match="unknown trainer"):
        get_trainer("gpt5")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "peft" else real(name, *a))
    with pytest.raises(UsageError) as info:
        get_trainer("lora")
    assert "peft" in info.value.message and "pip install" in info.value.hint
    assert trainer_version("tiny") >= 1 and trainer_version("lora") >= 1
