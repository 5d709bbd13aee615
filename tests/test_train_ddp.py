"""Training on 2 processes (torchrun, DDP, gloo on CPU): it finishes, rank 0 writes a loadable
checkpoint, and its loss tracks the single-process run step by step (each step is the one a single
process takes on the whole batch, up to float rounding)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

from proda.config import CompileConfig  # noqa: E402
from proda.train import get_trainer  # noqa: E402
from proda.train.distributed import launch  # noqa: E402
from synthetic import fact_corpus, fact_texts, facts  # noqa: E402

pytestmark = pytest.mark.slow

SMALL = dict(vocab_size=384, hidden_size=32, layers=1, heads=2, cutoff_len=48, batch_size=16, seed=0,
             precision="fp32", save_every=0)


def test_two_process_ddp_tracks_one_process(tmp_path):
    pairs = facts(60, seed=1)
    texts, corpus = fact_texts(pairs), fact_corpus(pairs)
    one_steps: list = []
    one = get_trainer("tiny")(texts, tmp_path / "one", CompileConfig(**SMALL), corpus=corpus, epochs=4,
                              learning_rate=1e-2, state_dir=tmp_path / "one-state",
                              on_step=lambda s, loss, lr: one_steps.append((s, loss)))
    two_steps: list = []
    two = launch("tiny", texts, tmp_path / "two", CompileConfig(**SMALL, processes=2), corpus=corpus,
                 init_from=None, epochs=4, learning_rate=1e-2, state_dir=tmp_path / "two-state",
                 on_step=lambda s, loss, lr: two_steps.append((s, loss)))
    assert two["processes"] == 2 and one["processes"] == 1
    assert [s for s, _ in two_steps] == [s for s, _ in one_steps] and len(one_steps) == one["steps"]
    worst = max(abs(a - b) / a for (_, a), (_, b) in zip(one_steps, two_steps))
    print(f"steps {len(one_steps)}, first loss {one_steps[0][1]:.4f} / {two_steps[0][1]:.4f}, final "
          f"{one['final_loss']:.4f} / {two['final_loss']:.4f}, worst relative gap {worst:.2e}")
    assert worst < 1e-3, f"the 2-process loss strays {worst:.2e} from the 1-process loss"
    assert abs(two["final_loss"] - one["final_loss"]) / one["final_loss"] < 1e-3
    assert (tmp_path / "two" / "model.safetensors").exists() and (tmp_path / "two" / "tokenizer.json").exists()
    assert not list((tmp_path / "two-state").glob("rank*-discard"))


def test_processes_enter_the_checkpoint_key_only_above_one(make_project):
    from proda.engine.stage import get

    project = make_project({"physics": {}})
    compile_stage = get("compile")
    assert "processes" not in compile_stage.params(project)["compile"]
    from proda.project import Project

    two = Project.at(project.root, ("compile.processes=2",))
    assert compile_stage.params(two)["compile"]["processes"] == 2
