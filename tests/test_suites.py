"""Regression suites: a checkpoint scored on an lm-eval task folder through lm-eval itself, results
kept per checkpoint in the catalog and compared by diff."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")
pytest.importorskip("torch")

from proda.config import CompileConfig  # noqa: E402
from proda.errors import UsageError  # noqa: E402
from proda.project import Project, init_project  # noqa: E402
from proda.score import suites  # noqa: E402
from proda.train import get_trainer  # noqa: E402
from synthetic import fact_corpus, fact_texts, facts  # noqa: E402

pytestmark = pytest.mark.slow
TASKS = Path(__file__).parent / "data" / "suite_capitals"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A project whose [test] suites names a task folder; a tiny model that learned its facts and one
    that barely trained, each scored on the suite through lm-eval once (the slow part: two runs)."""
    root = tmp_path_factory.mktemp("suite")
    project_dir = root / "p"
    init_project(project_dir)
    shutil.copytree(TASKS, project_dir / "suites" / "capitals")
    (project_dir / "specs" / "proda.toml").write_text('[test]\nsuites = ["suites/capitals"]\nbatch_size = 8\n')
    pairs = facts(200, seed=0)
    cfg = CompileConfig(vocab_size=512, hidden_size=64, layers=2, heads=4, cutoff_len=64, batch_size=16, seed=0)
    get_trainer("tiny")(fact_texts(pairs), root / "trained", cfg, corpus=fact_corpus(pairs), epochs=30,
                        learning_rate=1e-2, state_dir=root / "state")
    get_trainer("tiny")(fact_texts(pairs[100:]), root / "other", cfg, corpus=fact_corpus(pairs), epochs=1,
                        learning_rate=1e-3, state_dir=root / "state2")
    project = Project.at(project_dir)
    rows = {name: suites.run_suite(project, root / name, "suites/capitals") for name in ("trained", "other")}
    return project, root, rows


def test_a_task_folder_is_scored_through_lm_eval(setup):
    _, _, rows = setup
    learned = {(t, m): v for t, m, v, _ in rows["trained"]}
    barely = {(t, m): v for t, m, v, _ in rows["other"]}
    assert learned[("proda_capitals", "acc")] >= 0.7  # chance is 0.25: the model knows these capitals
    assert barely[("proda_capitals", "acc")] < learned[("proda_capitals", "acc")] - 0.3
    # lm-eval's stderr comes along with every score (0 where the model is right on every item), and no
    # bookkeeping key (lm-eval 0.4.13's sample_len) is taken for a metric
    assert all(e is not None for run in rows.values() for _, _, _, e in run), rows
    assert all(e > 0 for _, _, _, e in rows["other"]), rows


def test_results_are_kept_per_checkpoint_and_compared(setup, monkeypatch):
    from proda.engine.catalog import open_catalog

    project, _, rows = setup
    ran = []
    monkeypatch.setattr(suites, "run_suite", lambda p, model_dir, suite: ran.append(model_dir.name) or
                        rows["other" if model_dir.name == "ckpt-a" else "trained"])
    with open_catalog(project) as cat:
        a = suites.score_suites(project, cat, "ckpt-a")
        b = suites.score_suites(project, cat, "ckpt-b")
        assert suites.score_suites(project, cat, "ckpt-b") == b  # from the catalog, not run again
    assert ran == ["ckpt-a", "ckpt-b"]
    change = suites.compare(a, b)["suites/capitals"]["proda_capitals/acc"]
    assert change["delta"] == pytest.approx(change["to"] - change["from"]) and change["delta"] > 0.3
    assert change["stderr"] is not None and change["stderr"] > 0


def test_a_folder_without_tasks_is_a_usage_error(setup):
    project = setup[0]
    (project.root / "suites" / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no lm-eval task"):
        suites.resolve(project, "suites/empty")
    with pytest.raises(UsageError, match="not a folder"):
        suites.resolve(project, "suites/missing")
    assert suites.resolve(project, "arc_easy") == ("arc_easy", None)


def test_model_args_for_a_full_model_and_an_adapter(tmp_path):
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "adapter_config.json").write_text('{"base_model_name_or_path": "/models/base"}')
    assert suites.model_args(tmp_path / "full") == f"pretrained={tmp_path / 'full'},dtype=float32"
    assert suites.model_args(tmp_path / "adapter") == f"pretrained=/models/base,peft={tmp_path / 'adapter'},dtype=float32"
