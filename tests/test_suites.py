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
    """A project whose [test] suites names a task folder, and a tiny model that learned its facts."""
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
    return Project.at(project_dir), root


def test_a_task_folder_is_scored_through_lm_eval(setup):
    project, root = setup
    learned = dict(((t, m), v) for t, m, v, _ in suites.run_suite(project, root / "trained", "suites/capitals"))
    barely = dict(((t, m), v) for t, m, v, _ in suites.run_suite(project, root / "other", "suites/capitals"))
    assert learned[("proda_capitals", "acc")] >= 0.7  # chance is 0.25: the model knows these capitals
    assert barely[("proda_capitals", "acc")] < learned[("proda_capitals", "acc")] - 0.3


def test_results_are_kept_per_checkpoint_and_compared(setup, monkeypatch):
    from proda.engine.catalog import open_catalog
    from proda.engine.outputs import checkpoint_dir

    project, root = setup
    for key, src in (("ckpt-a", root / "other"), ("ckpt-b", root / "trained")):
        shutil.copytree(src, checkpoint_dir(project, key))
    with open_catalog(project) as cat:
        a = suites.score_suites(project, cat, "ckpt-a")
        b = suites.score_suites(project, cat, "ckpt-b")
        monkeypatch.setattr(suites, "run_suite", lambda *a, **k: pytest.fail("scored twice"))
        assert suites.score_suites(project, cat, "ckpt-b") == b  # from the catalog
    change = suites.compare(a, b)["suites/capitals"]["proda_capitals/acc"]
    assert change["delta"] == pytest.approx(change["to"] - change["from"]) and change["delta"] > 0.3
    assert change["stderr"] is not None and change["stderr"] > 0


def test_a_folder_without_tasks_is_a_usage_error(setup, tmp_path):
    project, _ = setup
    (project.root / "suites" / "empty").mkdir()
    with pytest.raises(UsageError, match="holds no lm-eval task"):
        suites.resolve(project, "suites/empty")
    with pytest.raises(UsageError, match="not a folder"):
        suites.resolve(project, "suites/missing")
    assert suites.resolve(project, "arc_easy") == ("arc_easy", None)
