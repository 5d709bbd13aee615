"""The closed loop on a slice of the example project: V1 → test → debug → V2, and what each step
rebuilds, reuses and reports. One module-scoped build keeps it to about a minute."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import doc
from proda.make import build
from proda.project import Project
from proda.project import example_specs, init_project

pytestmark = pytest.mark.slow
DISCIPLINES = ("physics", "biology", "economics")
FAST = ("compile.epochs=12", "compile.patch_epochs=3", "debug.samples_per_error=10")


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    root = tmp_path_factory.mktemp("loop") / "p"
    init_project(root)
    for d in DISCIPLINES:
        shutil.copytree(example_specs() / "corpus" / d, root / "specs" / "corpus" / d)
    (root / "specs" / "proda.toml").write_text("[compile]\n" + "\n".join(
        f"{k.split('.')[1]} = {v}" for k, v in (s.split("=") for s in FAST if s.startswith("compile"))) +
        "\n[debug]\nsamples_per_error = 10\n")
    from proda.debugger.run import debug
    from proda.engine.versions import tag
    from proda.score.runs import run_tests

    project = Project.at(root)
    v1 = build(project)
    tag(project, "v1")
    first = run_tests(project)
    again = run_tests(project)
    diagnosis = debug(project)
    v2 = build(Project.at(root))
    tag(Project.at(root), "v2")
    failed = run_tests(Project.at(root), failed=True)
    return {"root": root, "v1": v1, "first": first, "again": again, "debug": diagnosis, "v2": v2,
            "failed": failed}


def test_v1_builds_every_stage_and_tests_every_item(loop):
    v1, first = loop["v1"], loop["first"]
    for stage in ("ingest", "chunk", "extract", "bench", "synth", "compile", "test"):
        assert v1["stages"][stage]["built"] > 0, stage
    assert first["ran"] + first["reused"] == first["passed"] + first["failed"] > 0
    assert set(first["accuracy"]["by_discipline"]) == set(DISCIPLINES)


def test_every_result_is_also_scored_without_its_question(loop):
    from proda.engine.outputs import load_shard

    q = loop["first"]["question"]
    assert q["n"]["all"] == loop["first"]["passed"] + loop["first"]["failed"]
    assert q["with"]["all"] == loop["first"]["accuracy"]["all"]
    assert q["adds"]["all"] == round(q["with"]["all"] - q["without"]["all"], 4)
    results = load_shard(loop["root"] / "build", "test", "all")
    assert results and all(len(r.unconditional) == len(r.scores) for r in results)
    assert any(r.unconditional != r.scores for r in results)  # the stem changes what the model prefers


def test_second_test_call_scores_nothing(loop):
    again = loop["again"]
    assert again["ran"] == 0 and again["reused"] == loop["first"]["passed"] + loop["first"]["failed"]


def test_test_lists_the_failed_item_keys(loop, proda_cli):
    """The keys `proda show` needs: every failed item's key in the JSON, the first five in the text."""
    first = loop["first"]
    assert len(first["failed_items"]) == first["failed"] == len(set(first["failed_items"]))
    from proda.engine.catalog import open_catalog

    with open_catalog(Project.at(loop["root"]), read_only=True) as cat:
        wrong = {r[0] for r in cat.query("SELECT item FROM test_run_items WHERE run = ? AND NOT correct", [first["run"]])}
    assert set(first["failed_items"]) == wrong
    text = proda_cli("test", "--split", "dev", cwd=loop["root"]).stdout
    assert "failed: " in text and "proda show KEY" in text


def test_debug_writes_a_patch_with_every_label_counted(loop):
    d = loop["debug"]
    assert d["failures"] == d["concept_gaps"] + d["reasoning_deficits"] + d["undetermined"] > 0
    assert 0 < d["base_rate"] < 1 and d["valid_probes"] > 0
    patch = loop["root"] / d["patch"]
    header = json.loads(patch.read_text().splitlines()[0])
    assert header["proda_patch"] == 1 and len(header["diagnoses"]) == d["failures"]
    for diag in header["diagnoses"]:
        assert {"probes", "correct", "base_rate", "why"} <= set(diag["evidence"])
    budget = header["budget"]
    assert budget["mode"] == "error" and sum(budget["by_discipline"].values()) == budget["total"]
    assert budget["total"] == 10 * d["failures"] and set(header["dropped"]) == {"stem", "run", "whole"}
    assert d["samples"] > 0


def test_v2_rebuilds_only_what_the_patch_touches(loop):
    stages, d = loop["v2"]["stages"], loop["debug"]
    for upstream in ("ingest", "chunk", "extract", "bench"):
        assert stages[upstream]["built"] == 0, upstream
    lines = (loop["root"] / d["patch"]).read_text().splitlines()[1:]
    distinct = {(json.loads(line)["format"], json.loads(line)["prompt"], json.loads(line)["response"])
                for line in lines}
    assert _contaminated(loop) == 0  # the debugger applies the same rule before it writes
    # built = samples new to the build (the replay samples V1 already had are reused, not built):
    # exactly what `proda diff v1 v2` counts as added
    from proda.report.diff import diff

    added = diff(Project.at(loop["root"]), "v1", "v2")["added"]["samples"]
    assert stages["synth"]["built"] == added > 0
    assert loop["v2"]["tasks"]["synth:patches"]["built"] <= len(distinct) - d["replay"]
    # and the stage holds what `proda stats` counts
    from proda.report.stats import stats

    held = stats(Project.at(loop["root"]))["samples"]
    assert stages["synth"]["built"] + stages["synth"]["reused"] == held
    assert stages["compile"]["built"] == 1 and stages["compile"]["reused"] == 1  # V1 reused as parent
    assert stages["test"]["built"] > 0


def _contaminated(loop):
    from proda.report.stats import stats

    return stats(Project.at(loop["root"]))["by_discipline"].get("patches", {}).get("contaminated", 0)


def test_failed_reruns_exactly_the_previous_failures(loop):
    assert loop["failed"]["selected"] == loop["again"]["failed"]
    assert loop["failed"]["ran"] + loop["failed"]["reused"] == loop["again"]["failed"]


def test_diff_reports_added_samples_and_fixed_items(loop):
    from proda.report.diff import diff

    result = diff(Project.at(loop["root"]), "v1", "v2")
    assert result["added"]["samples"] > 0 and result["added"]["items"] == 0
    assert result["removed"]["chunks"] == 0
    assert result["results"]["fixed"] == len(result["results"]["fixed_items"])
    assert set(result["accuracy"]["from"]) >= {"all", "dev", "holdout", "by_discipline"}


def test_diff_measures_the_repair_groups(loop):
    from proda.report.diff import diff

    result = diff(Project.at(loop["root"]), "v1", "v2")
    groups = result["groups"]
    assert {"dev_failed", "dev_passed", "holdout_related", "holdout_unrelated"} <= set(groups)
    dev = groups["dev_failed"]["n"] + groups["dev_passed"]["n"]
    assert groups["dev_failed"]["n"] == loop["debug"]["failures"] and groups["dev_failed"]["from"] == 0.0
    assert groups["holdout_related"]["n"] > 0
    for g in groups.values():
        assert set(g) >= {"n", "from", "to", "delta", "ci95", "p"} and 0 <= g["p"] <= 1
        assert g["ci95"][0] <= g["delta"] <= g["ci95"][1]
    assert dev == sum(1 for i in _items(loop) if i.split == "dev")


def _items(loop):
    from proda.engine.outputs import items

    return items(Project.at(loop["root"]))


def test_no_training_sample_shares_a_run_with_any_item(loop):
    """The issue's check, written independently: texts reduced to letters; no 13-word run of any
    item text (stem, every option, both splits) in any sample; no item text of 8+ words inside one."""
    import re

    from proda.engine.outputs import samples

    def reduce(text):
        text = re.sub(r"[(\[]\s*(?:\d{1,3}|[a-z]|[ivxlc]{1,5})\s*[)\]]", " ", text.lower())
        return re.findall(r"[^\W\d_]+", text)

    grams, whole = set(), set()
    for it in _items(loop):
        for text in [it.stem, *(o.text for o in it.options)]:
            w = reduce(text)
            grams |= {tuple(w[i:i + 13]) for i in range(len(w) - 12)}
            if len(w) >= 8:
                whole.add(" ".join(w))
    everything = samples(Project.at(loop["root"]))
    assert any(s.origin == "patch" for s in everything) and any(s.origin == "replay" for s in everything)
    for s in everything:
        w = reduce(s.prompt + "\n" + s.response)
        assert not {tuple(w[i:i + 13]) for i in range(len(w) - 12)} & grams, s
        joined = f" {' '.join(w)} "
        assert not any(f" {t} " in joined for t in whole if len(t.split()) < 13), s


def test_show_traces_a_failed_item_to_its_document(loop):
    from proda.engine.outputs import load_shard
    from proda.report.trace import show

    project = Project.at(loop["root"])
    failed = next(r for r in load_shard(project.build, "test", "all") if not r.correct)
    result = show(project, failed.item[:10])
    kinds = [t["kind"] for t in result["trace"]]
    assert kinds[0] == "item" and kinds[-1] == "document"
    assert {"chain", "statement", "chunk"} <= set(kinds)


def test_report_draws_what_its_json_says(loop, tmp_path):
    from report_charts import Charts, check_against_json

    from proda.report.html import report

    out = tmp_path / "r.html"
    result = report(Project.at(loop["root"]), out)
    assert [v["name"] for v in result["versions"]][:2] == ["v1", "v2"]
    from proda.engine.outputs import items

    every = items(Project.at(loop["root"]))
    assert result["chance"] == pytest.approx(sum(1 / len(i.options) for i in every) / len(every), abs=1e-4)
    assert sum(result["failure_types"].values()) == loop["debug"]["failures"]
    assert [d["name"] for d in result["diagnoses"]] == ["v1"]  # named by tag, not by key
    assert [c["name"] for c in result["loss"]] == ["v1", "v2"]
    assert result["loss"][1]["first_step"] == result["loss"][0]["steps"] + 1  # V2 continues V1
    page = out.read_text()
    charts = Charts(page).charts
    assert {"accuracy-by-split", "accuracy-by-discipline", "training-loss", "failure-types"} <= set(charts)
    check_against_json(charts, result)
    assert '{"' not in page  # no raw JSON dumped into the page


def test_report_command_says_where_it_wrote(loop, tmp_path, proda_cli):
    page = tmp_path / "out.html"
    proc = proda_cli("report", "--html", str(page), "-C", str(loop["root"]))
    assert f"wrote {page}" in proc.stderr and page.exists()
    assert "v1" in proc.stdout and "chance" in proc.stdout
    # accuracy without the question and what the question adds, per version, as --json has them
    result = json.loads(proda_cli("report", "--json", "-C", str(loop["root"])).stdout)
    rows = {line.split("  ")[0]: line.split()[-len(result["versions"]):] for line in proc.stdout.splitlines()
            if line.startswith(("no question", "question adds"))}
    assert rows["no question"] == [f"{v['question']['without']['all']:.3f}" for v in result["versions"]]
    assert rows["question adds"] == [f"{v['question']['adds']['all']:+.3f}" for v in result["versions"]]
    # the validity block, each baseline with its interval
    classifier = next(line for line in proc.stdout.splitlines() if line.strip().startswith("classifier"))
    low, high = result["validity"]["intervals"]["classifier"]["dev"]
    assert f"dev {result['validity']['option_only']['classifier']['dev']:.3f} ({low:.3f}-{high:.3f})" in classifier


def test_report_renders_in_headless_chromium(loop, tmp_path):
    import json as js
    import shutil as sh
    import subprocess

    from report_charts import PROBE, Charts, check_against_json

    browser = sh.which("chromium") or sh.which("chromium-browser") or sh.which("google-chrome")
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    from proda.report.html import report

    page = tmp_path / "report.html"
    result = report(Project.at(loop["root"]), page)
    probed = tmp_path / "probed.html"  # the page plus a script that measures what Chromium drew
    probed.write_text(page.read_text().replace("</body>", PROBE + "</body>"))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--dump-dom", probed.as_uri()], capture_output=True, text=True,
                         timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    rendered = Charts(dom.stdout)
    check_against_json(rendered.charts, result)  # what the browser holds is what --json says
    probe = {p["chart"]: p for p in js.loads(rendered.probe)}
    assert set(probe) == set(rendered.charts)
    for name, p in probe.items():
        assert p["width"] > 300 and p["height"] > 100, name
        assert p["clipped"] == [], (name, p["clipped"])  # every label inside its chart
        assert p["visible"] > 0, name
    shot = tmp_path / "report.png"
    subprocess.run([browser, *flags, f"--screenshot={shot}", "--window-size=1000,1400", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 10_000


def test_demo_story_fits_on_one_screen_and_its_numbers_add_up(loop):
    from proda.commands.demo import chance, debug_lines, outcome_lines, table, v1_lines, v2_lines
    from proda.report.diff import diff
    from proda.report.stats import stats

    project = Project.at(loop["root"])
    result = {**diff(project, "v1", "v2"), "seconds": 60.0}
    counts = stats(project)
    story = (v1_lines(counts, loop["v1"], loop["first"], chance(project), 90.0) + debug_lines(loop["debug"])
             + v2_lines(loop["v2"], loop["debug"], _contaminated(loop), 30.0)
             + outcome_lines(result, loop["failed"]))
    text = "\n".join(story)
    assert f"synth built {result['added']['samples']} new samples" in text  # = diff's samples +N
    assert f"{loop['debug']['replay']} replay" in text and "V1's own (replay)" in text
    if any(loop["debug"]["dropped"].values()):  # what the debugger left out, and why
        assert f"{sum(loop['debug']['dropped'].values())} dropped before writing" in text
    assert "ran synth, compile, test; reused ingest, chunk, extract, bench (untouched)" in text
    # the table, with as many disciplines as the example project has
    many = {f"discipline_{i:02d}": 0.5 for i in range(16)}
    wide = {**result, "accuracy": {side: {**result["accuracy"][side], "by_discipline": many}
                                   for side in ("from", "to")}}
    lines = story + table(wide).splitlines()
    assert len(lines) <= 36, "\n".join(lines)  # one screen; widths: tests/test_output.py (example sizes)


def test_demo_on_a_finished_demo_shows_it_without_rebuilding(loop):
    from proda.commands.demo import run_demo
    from proda.errors import UsageError

    said = []
    result = run_demo(loop["root"], say=said.append)
    assert "already holds a finished demo" in said[0] and "--fresh" in said[0]
    assert set(result["phases"]) == {"diff"} and result["added"]["samples"] > 0
    with pytest.raises(UsageError, match="did not create"):  # --fresh resets only demo folders
        run_demo(loop["root"], fresh=True, say=said.append)


def test_demo_never_continues_in_a_project_it_did_not_make(make_project):
    """A plain project (no v1/v2 yet) is not the demo's to build, debug and tag."""
    from proda.commands.demo import run_demo
    from proda.errors import UsageError

    project = make_project({"physics": {"a.md": doc("alpha")}})
    with pytest.raises(UsageError, match="did not create"):
        run_demo(project.root, say=lambda line: None)
    assert not list(project.patches.glob("*.jsonl")) and not (project.build / "proda.duckdb").exists()


def test_test_reads_results_while_a_build_runs(loop, proda_cli):
    from test_read_while_building import HOLD, _hold

    holder = _hold(HOLD, loop["root"], 60)
    try:
        proc = proda_cli("test", "--json", "-C", str(loop["root"]))
        out = json.loads(proc.stdout)
        assert out["run"] is None and out["ran"] == 0 and out["reused"] == out["passed"] + out["failed"] > 0
        text = proda_cli("test", "-C", str(loop["root"])).stdout
        assert "a build is running" in text
    finally:
        holder.kill()
        holder.wait()


def test_lm_eval_export_has_no_absolute_path(loop, tmp_path):
    from proda.export import export_project

    out = export_project(Project.at(loop["root"]), "lm-eval", tmp_path / "tasks")
    script = (out / "run.sh").read_text()
    assert str(tmp_path) not in script and str(loop["root"]) not in script
    assert "build/checkpoints/" in script and '"$here"' in script
    for name in ("proda.yaml", "proda_dev.yaml", "proda_holdout.yaml"):
        assert str(tmp_path) not in (out / name).read_text()


def test_an_empty_selection_is_refused_not_scored_zero(loop, monkeypatch):
    """`proda test --split holdout --discipline D` with no such item printed accuracy 0.000 and
    failed a `--fail-under` gate on nothing; it is now an input error naming the selection."""
    import proda.engine.outputs as outputs
    from proda.errors import UsageError
    from proda.score.runs import run_tests

    dev_only = [i for i in outputs.items(Project.at(loop["root"])) if i.split == "dev"]
    monkeypatch.setattr(outputs, "items", lambda project: dev_only)
    with pytest.raises(UsageError, match="no benchmark item of discipline 'physics' in the holdout split"):
        run_tests(Project.at(loop["root"]), split="holdout", discipline="physics")
    got = run_tests(Project.at(loop["root"]), split="dev", discipline="physics")
    assert got["items"] == {"all": got["selected"], "dev": got["selected"], "holdout": 0} and got["selected"] > 0


def test_failed_with_nothing_left_to_rerun_says_so(loop, monkeypatch, proda_cli):
    """`--failed` after a run in which every item passed scores nothing, says so, is not recorded
    as a run (the last run stays the one that passed) and does not trip `--fail-under`."""
    import proda.engine.outputs as outputs
    from proda.engine.catalog import open_catalog
    from proda.score.runs import last_run, run_tests

    project = Project.at(loop["root"])
    every = outputs.items(project)
    with open_catalog(project) as cat:
        passed = {r[0] for r in cat.query("SELECT item FROM test_run_items WHERE run = ? AND correct", [last_run(cat)])}
    assert passed
    monkeypatch.setattr(outputs, "items", lambda p: [i for i in every if i.key in passed])
    clean = run_tests(project)
    assert clean["failed"] == 0 and clean["run"] is not None
    monkeypatch.undo()
    out = proda_cli("test", "--failed", "--fail-under", "0.9", cwd=loop["root"])
    assert "nothing failed in the last test run" in out.stdout
    again = json.loads(proda_cli("test", "--failed", "--json", cwd=loop["root"]).stdout)
    assert again["selected"] == 0 and again["nothing_failed"] == clean["run"]
    with open_catalog(Project.at(loop["root"])) as cat:
        assert last_run(cat) == clean["run"]
    # failures there were, but none in this selection: refused, not "nothing failed"
    ran = run_tests(Project.at(loop["root"]), discipline="physics")
    assert ran["failed"] > 0
    other = proda_cli("test", "--failed", "--discipline", "biology", "--fail-under", "0.99", cwd=loop["root"], check=False)
    assert other.returncode == 2 and "none of the" in other.stderr and "nothing failed" not in other.stdout


def test_debug_names_the_failures_its_patch_teaches_nothing(loop, monkeypatch, capfd):
    """A failure none of whose own nodes the patch teaches left its share of the budget to others,
    and neither the text nor the JSON said so; `untargeted` names such failures — by the same
    definition as the repair groups' dev_untargeted, so the two agree."""
    from proda.debugger.run import debug
    from proda.report.diff import diff

    d = loop["debug"]
    groups = diff(Project.at(loop["root"]), "v1", "v2")["groups"]
    assert len(d["untargeted"]) == groups["dev_untargeted"]["n"] < d["failures"] == groups["dev_failed"]["n"]
    assert d["untargeted"] == sorted(d["untargeted"])
    project = Project.at(loop["root"])
    before = set(project.patches.iterdir())
    try:
        got = debug(project)
        assert got["same_checkpoint"] == []
        capfd.readouterr()
        again = debug(project)  # run twice on one checkpoint: said, and listed
        assert again["same_checkpoint"] == [got["patch"].split("/")[-1]]
        assert "already diagnosed from checkpoint" in capfd.readouterr().err
    finally:
        for extra in set(project.patches.iterdir()) - before:  # leave the loop's patches as they were
            extra.unlink()