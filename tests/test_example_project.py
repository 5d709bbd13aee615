"""The example project (issue: a 16-discipline corpus written for proda) and the knowledge it
yields, plus the same checks on the real textbook sections in ../shared/corpus when present."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SHARED_CORPUS
from proda.make import build
from proda.engine import outputs
from proda.engine.outputs import load_shard
from proda.project import Project
from proda.project import example_specs, init_project

DISCIPLINES = {"physics", "engineering", "medicine", "mathematics", "computer_science", "biology", "chemistry",
               "earth_science", "materials_science", "education", "economics", "history",
               "environmental_science", "sociology", "psychology", "astronomy"}


def test_sixteen_disciplines_three_documents_each_of_400_words():
    corpus = example_specs() / "corpus"
    assert {p.name for p in corpus.iterdir() if p.is_dir()} == DISCIPLINES
    for discipline in DISCIPLINES:
        docs = sorted((corpus / discipline).glob("*.md"))
        assert len(docs) >= 3, discipline
        for doc in docs:
            text = doc.read_text(encoding="utf-8")
            assert text.startswith("# "), doc
            assert len(text.split()) >= 400, doc


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = tmp_path_factory.mktemp("example") / "p"
    init_project(root, example=True)
    project = Project.at(root)
    build(project, until="synth")
    return project


def test_every_document_survives_the_quality_filter(example):
    for d in example.disciplines():
        records = load_shard(example.build, "ingest", d)
        dropped = [(r.path, r.reason, r.detail) for r in records if type(r).__name__ == "Dropped"]
        assert not dropped, dropped
        assert sum(type(r).__name__ == "Document" for r in records) >= 3


def test_every_discipline_yields_knowledge_and_zero_orphans(example):
    from proda.report.stats import stats

    result = stats(example)
    assert result["orphans"] == 0 and result["contaminated"] == 0
    for d, row in result["by_discipline"].items():
        if d == "patches":
            continue
        for kind in ("chunks", "chains", "statements", "concepts", "items", "samples"):
            assert row[kind] > 0, (d, kind)


def test_items_read_by_kind_are_the_full_read_filtered(example):
    from proda.records import DroppedItem, Item

    for d in example.disciplines():
        full = load_shard(example.build, "bench", d)
        assert any(isinstance(r, Item) for r in full) and any(isinstance(r, DroppedItem) for r in full)
        for kinds in ((Item,), (DroppedItem,), (DroppedItem, Item)):
            assert load_shard(example.build, "bench", d, kinds) == [r for r in full if isinstance(r, kinds)]


def test_the_build_summary_counts_items_apart_from_dropped_candidates(example):
    from proda.make import dropped_summary
    from proda.records import DroppedItem

    summary = dropped_summary(example, {"bench": {}})
    items = outputs.items(example)
    assert summary["kept_items"] == {s: sum(i.split == s for i in items) for s in ("dev", "holdout")}
    assert summary["untested"] == {}  # every discipline has items in both splits
    assert summary["items"] == sum(len(load_shard(example.build, "bench", d, (DroppedItem,)))
                                   for d in example.disciplines()) > 0


def test_every_operator_appears_in_the_benchmark(example):
    items = outputs.items(example)
    operators = {op for item in items for o in item.options for op in o.operator.split("+") if op}
    assert operators == {"adjacency", "inversion", "truncation"}
    for d in example.disciplines():  # every discipline is tested on both splits
        assert {item.split for item in items if item.discipline == d} == {"dev", "holdout"}, d


def assert_measures_knowledge(project: Project) -> dict:
    """Option-only baselines at chance and no sentence in both splits.

    Over both splits every baseline is within 5 points of chance. Per split the same holds up to the
    sampling error of a split of this size (1.96 standard errors of a rate at chance on n items: with
    ~100 items a split's rate scatters by ~4 points however fair the items are). The item builder
    before issue 11 failed both by far: its answer was the option the others were edited from, and
    "pick the option most like the others" scored about 0.82 against a chance of 0.30."""
    import math

    from proda.bench import baselines
    from proda.bench.split import shared_sentences, split_texts

    items = outputs.items(project)
    chance = sum(1 / len(i.options) for i in items) / len(items)
    scores = baselines.option_only(items)
    n = {s: sum(i.split == s for i in items) for s in ("dev", "holdout")}
    for name, by_split in scores.items():
        pooled = sum(by_split[s] * n[s] for s in n) / len(items)
        assert abs(pooled - chance) <= 0.05, (name, "pooled", pooled, chance)
        for split in ("dev", "holdout"):
            allowed = 0.05 + 1.96 * math.sqrt(chance * (1 - chance) / n[split])
            assert abs(by_split[split] - chance) <= allowed, (name, split, by_split[split], chance, allowed)
    assert shared_sentences(split_texts(items, outputs.knowledge(project).chains)) == 0
    return scores


def test_the_benchmark_measures_knowledge_not_option_shape(example):
    assert_measures_knowledge(example)


def test_show_traces_a_concept_to_its_source_sentence(example):
    from proda.report.trace import show

    concept = next(r for r in load_shard(example.build, "extract", "physics") if type(r).__name__ == "Concept")
    result = show(example, concept.key[:12])
    assert result["kind"] == "concept" and result["trace"][-1]["kind"] == "document"
    statement = next(t for t in result["trace"] if t["kind"] == "statement")
    quote = statement["text"].split('"')[1]
    doc = next(r for r in load_shard(example.build, "ingest", "physics") if r.key == result["trace"][-1]["key"])
    assert quote in doc.text


def test_editing_one_document_changes_only_what_derives_from_it(example, tmp_path):
    root = tmp_path / "copy"
    shutil.copytree(example.root, root, symlinks=True)
    path = root / "specs" / "corpus" / "physics" / sorted(os.listdir(root / "specs" / "corpus" / "physics"))[0]
    path.write_text(path.read_text() + "\n\nFriction converts kinetic energy into heat because surfaces "
                    "rub together, so a sliding block slows down. Therefore friction decreases speed.\n")
    result = build(Project.at(root), until="synth")["stages"]
    assert result["ingest"]["built"] == 1
    chunks = load_shard(root / "build", "chunk", "physics")
    doc_key = next(r.key for r in load_shard(root / "build", "ingest", "physics") if r.path.endswith(path.name))
    assert result["chunk"]["built"] == sum(c.doc == doc_key for c in chunks)
    # items: those of the edited document, plus items elsewhere in physics whose concepts the edit
    # changed (a new alias merged into a shared concept); no other discipline is touched
    items = [i for d in Project.at(root).disciplines() for i in load_shard(root / "build", "bench", d)]
    physics = sum(i.discipline == "physics" for i in items)
    assert 0 < result["bench"]["built"] < physics / 2
    assert result["bench"]["reused"] >= len(items) - physics
    assert result["extract"]["built"] < sum(1 for d in Project.at(root).disciplines()
                                            for _ in load_shard(root / "build", "extract", d)) / 20


def test_a_patch_file_builds_exactly_its_samples(example, tmp_path):
    from proda.synth.patchfile import write_patch
    from proda.records import Sample, make

    root = tmp_path / "copy"
    shutil.copytree(example.root, root, symlinks=True)
    samples = [make(Sample, discipline="physics", format="open", prompt=f"What does force {i} cause?",
                    response=f"Force {i} causes acceleration {i}.", statements=[], concepts=[],
                    origin="patch", source="0001-hand.jsonl") for i in range(5)]
    write_patch(root / "specs" / "patches" / "0001-hand.jsonl", {"proda_patch": 1}, samples)
    result = build(Project.at(root), until="synth")["stages"]
    assert result["synth"]["built"] == 5
    for stage in ("ingest", "chunk", "extract", "bench"):
        assert result[stage]["built"] == 0


def test_init_example_from_an_installed_wheel(tmp_path):
    """The corpus is package data: a wheel installed outside the checkout still has it."""
    wheel_dir = tmp_path / "wheel"
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(wheel_dir), str(ROOT)], capture_output=True, text=True)
    if proc.returncode != 0 and "hatchling" in proc.stderr:
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir),
                               str(ROOT)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    wheel = next(wheel_dir.glob("proda-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert sum(n.startswith("proda/example/specs/corpus/") and n.endswith(".md") for n in names) >= 48
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    project = tmp_path / "fresh"
    run = lambda *a: subprocess.run([sys.executable, "-m", "proda", *a], cwd=tmp_path, env=env,  # noqa: E731
                                    capture_output=True, text=True)
    where = subprocess.run([sys.executable, "-c", "import proda; print(proda.__file__)"], cwd=tmp_path, env=env,
                           capture_output=True, text=True).stdout
    assert str(target) in where
    assert run("init", "--example", str(project)).returncode == 0
    out = run("build", "--until", "chunk", "--json", "-C", str(project))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["stages"]["ingest"]["built"] >= 48


@pytest.mark.skipif(not SHARED_CORPUS.is_dir(), reason="../shared/corpus is not beside the checkout")
def test_shared_textbook_corpus_yields_knowledge_and_zero_contamination(tmp_path):
    root = tmp_path / "shared"
    init_project(root)
    for folder in sorted(p for p in SHARED_CORPUS.iterdir() if p.is_dir()):
        shutil.copytree(folder, root / "specs" / "corpus" / folder.name)
    project = Project.at(root)
    build(project, until="synth", jobs=2)
    from proda.report.stats import stats

    result = stats(project)
    assert result["orphans"] == 0 and result["contaminated"] == 0
    for d, row in result["by_discipline"].items():
        if d != "patches":
            assert row["chains"] > 0 and row["statements"] > 0 and row["concepts"] > 0, d
    assert_measures_knowledge(project)


def test_error_proportional_budget_follows_the_latest_patch(tmp_path):
    from proda.synth.patchfile import write_patch
    from proda.report.stats import stats

    root = tmp_path / "budget"
    init_project(root)
    for d in ("physics", "biology"):
        shutil.copytree(example_specs() / "corpus" / d, root / "specs" / "corpus" / d)
    (root / "specs" / "proda.toml").write_text('[synth]\nbudget = "error"\nper_discipline = 40\n')
    project = Project.at(root)
    build(project, until="synth")
    uniform = stats(project)["by_discipline"]
    assert uniform["physics"]["samples"] == uniform["biology"]["samples"] == 40  # no diagnosis yet
    write_patch(root / "specs" / "patches" / "0001-debug.jsonl",
                {"proda_patch": 1, "error_rates": {"physics": 0.75, "biology": 0.25}}, [])
    result = build(Project.at(root), until="synth")
    skewed = stats(Project.at(root))["by_discipline"]
    assert skewed["physics"]["samples"] == 60 and skewed["biology"]["samples"] == 20
    assert result["stages"]["extract"]["built"] == 0
