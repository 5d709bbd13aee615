"""Regression suites for general ability: lm-evaluation-harness tasks scored per checkpoint.

``[test] suites = ["arc_easy", "suites/general"]`` names lm-eval tasks, or task folders (a folder of
lm-eval YAML task configs, relative to the project; every task in it is run). Each checkpoint is
scored through lm-eval itself — its command line (``python -m lm_eval run``), in a subprocess whose
working folder is the task folder, so relative ``data_files`` resolve there — offline
(``HF_DATASETS_OFFLINE=1``, ``HF_HUB_OFFLINE=1``: a named task must already be in the local
datasets cache; a folder brings its own data). Results are kept per (checkpoint, suite, task,
metric) in the catalog (table ``suite_results``) like item results, so a checkpoint is never scored
twice on a suite; ``proda diff`` and ``proda report`` show them beside the repair groups.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import StageError, UsageError

if TYPE_CHECKING:
    from ..project import Project


def resolve(project: "Project", suite: str) -> tuple[str, Path | None]:
    """(tasks argument, task folder or None) for one ``test.suites`` entry."""
    folder = (project.root / suite)
    if "/" in suite or suite.startswith(".") or folder.is_dir():
        if not folder.is_dir():
            raise UsageError(f"test.suites: {suite!r} is not a folder of the project",
                             "give an lm-eval task name, or a folder of lm-eval task YAML files")
        tasks = sorted({_task_name(p) for p in folder.glob("*.yaml")} - {""})
        if not tasks:
            raise UsageError(f"test.suites: {folder} holds no lm-eval task (a YAML file with `task:`)",
                             "add a task YAML file (see docs/config.md, [test] suites)")
        return ",".join(tasks), folder
    return suite, None


def _task_name(path: Path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("task:"):
            return line.split(":", 1)[1].strip().strip("'\"")
    return ""


def model_args(model_dir: Path) -> str:
    """lm-eval's ``--model_args`` for a checkpoint: a full model, or a LoRA adapter on its base."""
    adapter = model_dir / "adapter_config.json"
    if adapter.exists():
        base = json.loads(adapter.read_text(encoding="utf-8")).get("base_model_name_or_path", "")
        return f"pretrained={base},peft={model_dir},dtype=float32"
    return f"pretrained={model_dir},dtype=float32"


# Keys lm-eval puts beside the metrics that are not scores (0.4.13 added the task's sample count).
_BOOKKEEPING = frozenset({"sample_len"})


def run_suite(project: "Project", model_dir: Path, suite: str) -> list[tuple[str, str, float, float | None]]:
    """Score one checkpoint on one suite with lm-eval: [(task, metric, value, stderr)]."""
    tasks, folder = resolve(project, suite)
    cfg = project.config.test
    with tempfile.TemporaryDirectory(prefix="proda-suite-") as out:
        cmd = [sys.executable, "-m", "lm_eval", "run", "--model", "hf", "--model_args", model_args(model_dir),
               "--tasks", tasks, "--batch_size", str(cfg.batch_size), "--output_path", out,
               "--device", os.environ.get("PRODA_SUITE_DEVICE", "cpu"), "--seed", "0"]
        if folder is not None:
            cmd += ["--include_path", str(folder)]
        if cfg.suite_limit:
            cmd += ["--limit", str(cfg.suite_limit)]
        env = {**os.environ, "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        proc = subprocess.run(cmd, cwd=folder or project.root, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
            raise StageError(f"lm-eval failed on suite {suite!r} (exit {proc.returncode}):\n{tail}",
                             "check the task YAML and that its data is local (runs are offline)")
        found = sorted(Path(out).rglob("results_*.json"))
        if not found:
            raise StageError(f"lm-eval wrote no results for suite {suite!r}", "rerun with the task alone to see why")
        results = json.loads(found[-1].read_text(encoding="utf-8"))["results"]
    rows = []
    for task, metrics in sorted(results.items()):
        for name, value in sorted(metrics.items()):
            metric, _, _filter = name.partition(",")
            if metric.endswith("_stderr") or metric in _BOOKKEEPING or not isinstance(value, (int, float)):
                continue
            err = metrics.get(f"{metric}_stderr,{_filter}" if _filter else f"{metric}_stderr")
            rows.append((task, metric, float(value), float(err) if isinstance(err, (int, float)) else None))
    return rows


def score_suites(project: "Project", cat, checkpoint: str) -> dict[str, dict[str, dict[str, float | None]]]:
    """Every configured suite's results for ``checkpoint`` (reused from the catalog, else run now):
    ``{suite: {task/metric: {"value", "stderr"}}}``."""
    from ..engine.outputs import checkpoint_dir

    out: dict[str, dict[str, dict[str, float | None]]] = {}
    for suite in project.config.test.suites:
        rows = cat.query("SELECT task, metric, value, stderr FROM suite_results WHERE checkpoint = ? AND suite = ?",
                         [checkpoint, suite])
        if not rows:
            rows = run_suite(project, checkpoint_dir(project, checkpoint), suite)
            cat.con.executemany("INSERT OR REPLACE INTO suite_results VALUES (?, ?, ?, ?, ?, ?)",
                                [[checkpoint, suite, t, m, v, e] for t, m, v, e in rows])
        out[suite] = {f"{t}/{m}": {"value": round(v, 4), "stderr": None if e is None else round(e, 4)}
                      for t, m, v, e in sorted(rows)}
    return out


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """``{suite: {task/metric: {"from", "to", "delta", "stderr"}}}`` for two checkpoints' results."""
    out: dict[str, Any] = {}
    for suite in sorted(set(before) | set(after)):
        a, b = before.get(suite, {}), after.get(suite, {})
        out[suite] = {}
        for key in sorted(set(a) & set(b)):
            errs = [x["stderr"] for x in (a[key], b[key]) if x["stderr"] is not None]
            out[suite][key] = {"from": a[key]["value"], "to": b[key]["value"],
                               "delta": round(b[key]["value"] - a[key]["value"], 4),
                               "stderr": round(sum(e * e for e in errs) ** 0.5, 4) if len(errs) == 2 else None}
    return out
