"""What a user sees from a build: one line per stage in pipeline order, counts that add up with
``proda stats``, the same lines from ``doit`` and ``proda build``, per-task lines with ``-v``."""

from __future__ import annotations

import json
import re
import shutil
import sys

from conftest import doc
from proda.engine.stage import ORDER
from proda.engine.tally import Tally, size
from proda.make import build
from proda.project import Project

LINE = re.compile(r"^  (\w+) +built +(\d+) +reused +(\d+) +[\d.]+s")


def corpus():
    return {"physics": {"a.md": doc("alpha"), "b.md": doc("beta")}, "biology": {"c.md": doc("gamma")}}


def stage_lines(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(1), int(m.group(2)), int(m.group(3))) for m in map(LINE.match, text.splitlines()) if m]


def test_build_prints_one_line_per_stage_in_order_and_counts_add_up_with_stats(make_project, proda_cli):
    project = make_project(corpus())
    first = proda_cli("build", "--until", "synth", "-C", str(project.root))
    lines = stage_lines(first.stderr)
    assert [name for name, _, _ in lines] == list(ORDER[:5])
    summary = re.fullmatch(r"version [0-9a-f]{16}\nbenchmark: (\d+) items \(dev \d+, holdout \d+\); (\d+) "
                           r"candidate item\(s\) dropped( — why: proda stats --dropped)?\n"
                           r"(no benchmark item in: [^\n]+\n)?", first.stdout)
    assert summary, first.stdout
    assert "building" not in first.stderr  # no per-task lines without -v
    stats = json.loads(proda_cli("stats", "--json", "-C", str(project.root)).stdout)
    held = {"ingest": stats["documents"], "chunk": stats["chunks"],
            "extract": stats["chains"] + stats["statements"] + stats["concepts"],
            # bench publishes its items and a DroppedItem (with the reason) for each item it dropped
            "bench": stats["items"] + stats.get("validity", {}).get("dropped_items", 0),
            "synth": stats["samples"]}
    assert int(summary[1]) == stats["items"] and int(summary[1]) + int(summary[2]) == held["bench"]
    for name, built, reused in lines:  # a clean build: everything it holds is new
        assert (built, reused) == (held[name], 0), name
    # again: the no-op fast path prints the same stages, in the same order, all reused
    again = proda_cli("build", "--until", "synth", "-C", str(project.root))
    assert stage_lines(again.stderr) == [(name, 0, held[name]) for name, _, _ in lines]
    as_json = json.loads(proda_cli("build", "--until", "synth", "--json", "-C", str(project.root)).stdout)
    assert list(as_json["stages"]) == list(ORDER[:5])


def test_verbose_adds_a_line_per_task_that_ran(make_project, proda_cli):
    project = make_project(corpus())
    proda_cli("build", "--until", "chunk", "-C", str(project.root))
    (project.corpus / "physics" / "a.md").write_text(doc("alpha prime", 4))
    out = proda_cli("build", "--until", "chunk", "-v", "-C", str(project.root)).stderr
    tasks = re.findall(r"^    (\w+:\w+) +built +(\d+)", out, re.M)
    assert ("ingest:physics", "1") in tasks and ("chunk:physics", tasks[-1][1]) in tasks
    assert not any(t.endswith(":biology") for t, _ in tasks)  # up to date: not a task that ran


def test_doit_and_proda_build_print_the_same_counts(make_project, proda_cli, tmp_path):
    import subprocess

    project = make_project(corpus())
    twin = tmp_path / "twin"
    shutil.copytree(project.root, twin)
    ran = subprocess.run([sys.executable, "-m", "doit", "chunk"], cwd=project.root, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    via_doit = stage_lines(ran.stderr)
    via_proda = stage_lines(proda_cli("build", "--until", "chunk", "-C", str(twin)).stderr)
    assert via_doit == via_proda and [n for n, _, _ in via_doit] == ["ingest", "chunk"]
    # after doit, proda build finds everything done: reused = what doit built
    after = stage_lines(proda_cli("build", "--until", "chunk", "-C", str(project.root)).stderr)
    assert after == [(name, 0, built) for name, built, _ in via_doit]


def test_built_counts_records_new_to_the_build_not_units_recomputed(make_project):
    project = make_project(corpus())
    build(project, until="chunk")
    # appending one paragraph re-chunks the document; unchanged chunks are not new
    path = project.corpus / "physics" / "a.md"
    path.write_text(path.read_text() + "\nAn extra closing paragraph explains why the alpha heat flows.\n")
    result = build(Project.at(project.root), until="chunk")
    chunk = result["stages"]["chunk"]
    assert 0 < chunk["built"] < chunk["built"] + chunk["reused"]
    assert result["tasks"]["chunk:physics"]["built"] == chunk["built"]
    assert "chunk:biology" not in result["tasks"]


def test_compile_counts_checkpoints_from_its_lineage(make_project):
    project = make_project(corpus())
    assert size({"stage": "compile", "records": 0, "extra": {"lineage": ["a", "b"]}}) == 2
    assert size({"stage": "chunk", "records": 7, "extra": {}}) == 7
    assert size(None) == 0
    counts = Tally(project).stages(["ingest"])["ingest"]
    assert counts["built"] == counts["reused"] == counts["from_memo"] == 0 and counts["seconds"] == 0.0


def test_the_demo_story_fits_on_one_screen_at_the_example_projects_size():
    from proda.commands.demo import debug_lines, outcome_lines, table, v1_lines, v2_lines

    stage = {"built": 0, "reused": 0, "seconds": 0.0}
    v1 = {"stages": {s: dict(stage, built=1) for s in ORDER}}
    counts = {"documents": 48, "chunks": 1275, "chains": 5570, "statements": 10820, "concepts": 11980,
              "items": 5810, "samples": 10810}
    test = {"accuracy": {"dev": 0.3231, "holdout": 0.3482}, "passed": 3770, "failed": 6811}
    debug = {"failures": 3690, "concept_gaps": 3620, "reasoning_deficits": 60, "patch": "specs/patches/0001-debug.jsonl",
             "samples": 61680, "replay": 14680, "dropped": {"stem": 3, "run": 120, "whole": 7}}
    v2 = {"stages": {**{s: dict(stage, reused=9999) for s in ORDER}, "synth": dict(stage, built=53680),
                     "compile": dict(stage, built=1, reused=1), "test": dict(stage, built=10581)},
          "tasks": {"synth:patches": {"built": 50000}, "synth:physics": {"built": 3680}, "compile:all": {},
                    "test:all": {}}}
    by = {f"environmental_science_{i}": 0.5 for i in range(16)}
    diff = {"from": "903783254c3fba1d", "to": "14f0a565848833a7", "seconds": 1234.0,
            "added": {"chunks": 0, "samples": 53680}, "removed": {"chunks": 0, "samples": 0},
            "results": {"fixed": 1870, "broken": 1030},
            "accuracy": {"from": {"all": 0.3, "dev": 0.3, "holdout": 0.3, "by_discipline": by},
                         "to": {"all": 0.4, "dev": 0.4, "holdout": 0.3, "by_discipline": by}},
            "groups": {g: {"n": 3690, "from": 0.0, "to": 0.5, "delta": 0.5, "ci95": [0.48, 0.52], "p": 1e-9,
                           "ci95_documents": [-0.125, 0.875], "documents": 1234}
                       for g in ("dev_failed", "dev_targeted", "dev_untargeted", "dev_passed", "holdout_related",
                                 "holdout_unrelated", "holdout_failed", "holdout_passed")},
            "repair": {"delta": 0.1, "ci95": [0.05, 0.15], "p": 0.001}}
    lines = (v1_lines(counts, v1, test, 0.2975, 1234.0) + debug_lines(debug) + v2_lines(v2, debug, 7310, 321.0)
             + outcome_lines(diff, {"passed": 1870, "selected": 3690}) + table(diff).splitlines())
    assert len(lines) <= 36 and max(map(len, lines)) <= 100, "\n".join(lines)
    assert any("3680 new samples in the discipline shards" in line for line in lines)


def test_integer_bar_charts_have_an_axis_that_covers_the_longest_bar():
    # an 11-count bar once ran past its axis (ticks 0, 5, 10) and its value label out of the chart
    import re

    from proda.report.svg import hbars, nice_ticks

    for top in (1, 3, 7, 11, 13, 99, 356):
        ticks = nice_ticks(0.0, top, 5, integer=True)
        assert ticks[-1] >= top and all(t == int(t) for t in ticks), (top, ticks)
    page = hbars("failure-types", "t", ["concept gap", "undetermined"], [("v1", [11, 3])], "count",
                 integer=True, value_labels=True)
    bars = [float(x) + float(w) for x, w in re.findall(r'class="bar"[^>]* x="([0-9.]+)" y="[0-9.]+" width="([0-9.]+)"', page)]
    ticks = [float(x) for x in re.findall(r'class="tick" x="([0-9.]+)"', page)]
    assert len(bars) == 2 and max(bars) <= max(ticks) + 1e-6  # the longest bar ends inside the axis


def test_status_text_names_a_stage_with_many_stale_shards_once():
    """One edited document makes every bench shard stale for one reason: the text says so in one
    line (``--json`` keeps every task)."""
    from proda.commands.build import condensed

    shards = [f"d{i}" for i in range(5)]
    stale = [{"task": "ingest:d0", "reason": "data: specs/corpus/d0/a.md changed"}]
    stale += [{"task": f"bench:{d}", "reason": "upstream: extract:d0 will rebuild"} for d in shards]
    stale += [{"task": "synth:d0", "reason": "upstream: " + ", ".join(f"bench:{d}" for d in shards) + " will rebuild"}]
    lines = condensed(stale)
    assert lines == [("ingest:d0", "data: specs/corpus/d0/a.md changed"),
                     ("bench (5 shards)", "upstream: extract:d0 will rebuild"),
                     ("synth:d0", "upstream: bench (5 shards) will rebuild")]
    two = condensed([{"task": "bench:a", "reason": "x"}, {"task": "bench:b", "reason": "x"}])
    assert two == [("bench:a", "x"), ("bench:b", "x")]  # a pair is named, not counted


def test_demo_seeds_continue_earlier_seed_folders_and_fresh_makes_them_anew(tmp_path, monkeypatch):
    """``--seeds`` keeps an earlier run's seed folders (each shown or continued, as a single demo is);
    ``--fresh`` resets the demo folder and makes every seed copy again, with its own seed."""
    from proda.commands import demo as D

    ran = []

    def fake_run_demo(folder, verbose=False, **_):
        ran.append(folder)
        return {"from": "a", "to": "b", "accuracy": {}, "repair": {},
                "groups": {"dev_failed": {"delta": 0.1 * len(ran), "p": 0.5}}}

    monkeypatch.setattr(D, "run_demo", fake_run_demo)
    root = tmp_path / "demo"
    out = D.run_seeds(root, 2)
    copy = tmp_path / "demo-seed1"
    assert ran == [root, copy] and 'seed = 1' in (copy / "specs" / "proda.toml").read_text()
    assert out["seeds"]["summary"]["dev_failed"]["deltas"] == [0.1, 0.2]
    (copy / "left-by-an-earlier-run").write_text("x")
    D.run_seeds(root, 2)
    assert (copy / "left-by-an-earlier-run").exists()  # continued, not remade
    D.run_seeds(root, 2, fresh=True)
    assert not (copy / "left-by-an-earlier-run").exists() and 'seed = 1' in (copy / "specs" / "proda.toml").read_text()


def test_the_untested_disciplines_line_names_a_few_and_counts_the_rest():
    from proda.commands.build import UNTESTED_SHOWN, build_text

    untested = {f"d{i}": ["dev", "holdout"] if i % 2 else ["holdout"] for i in range(UNTESTED_SHOWN + 2)}
    text = build_text({"version": "0" * 16, "dropped": {"items": 3, "kept_items": {"dev": 1, "holdout": 0},
                                                         "untested": untested}})
    line = next(x for x in text.splitlines() if x.startswith("no benchmark item in:"))
    assert line.startswith("no benchmark item in: d0 (holdout), d1 (dev and holdout), d2 (holdout)")
    assert f"d{UNTESTED_SHOWN - 1}" in line and f"d{UNTESTED_SHOWN} " not in line
    assert "and 2 more discipline(s)" in line
    assert "no benchmark item" not in build_text({"version": "0" * 16, "dropped": {
        "items": 0, "kept_items": {"dev": 1, "holdout": 1}, "untested": {}}})


def test_demo_seeds_after_a_finished_demo_make_untrained_copies(tmp_path, monkeypatch):
    """`proda demo DIR` then `proda demo DIR --seeds 3`: the copies were the finished folder, tags,
    patch and checkpoints included, so each "seed" showed seed 0's run again (every sd 0.000). A
    folder past synth is seed 0's run; its copies leave out its build/ and patches."""
    from proda.commands import demo as D
    from proda.engine.outputs import read_manifest
    from proda.project import Project

    monkeypatch.setattr(D, "run_demo", lambda folder, verbose=False, **_: {
        "from": "a", "to": "b", "accuracy": {}, "repair": {}, "groups": {}})
    root = tmp_path / "demo"
    D.run_seeds(root, 1)  # the example, built up to synth
    patch = root / "specs" / "patches" / "0001-debug.jsonl"
    patch.parent.mkdir(parents=True, exist_ok=True)
    from proda.synth.patchfile import make_header, write_patch

    write_patch(patch, make_header("ck", [], {}), [])  # what `proda debug` left: the demo went past synth
    (root / "build" / "compile").mkdir()
    D.run_seeds(root, 2)
    copy = tmp_path / "demo-seed1"
    assert patch.exists() and not (copy / "specs" / "patches" / "0001-debug.jsonl").exists()
    assert not (copy / "build" / "compile").exists()
    assert "seed = 1" in (copy / "specs" / "proda.toml").read_text()
    seeded = Project.at(copy)
    assert all(read_manifest(seeded.build, "synth", d) for d in seeded.disciplines())  # built up to synth
