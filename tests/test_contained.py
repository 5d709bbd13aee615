"""Contained inputs and careful outputs: only regular files inside the project are specs, reads
are bounded, every bad setting is a clear exit 2, removal is a change, and proda never overwrites
a file it did not write."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from conftest import doc
from proda.engine.outputs import load_shard
from proda.errors import UsageError
from proda.make import build, status
from proda.project import Project, init_project


def _dropped(project, shard="physics"):
    return {r.path.split("/", 1)[1]: r for r in load_shard(project.build, "ingest", shard)
            if type(r).__name__ == "Dropped"}


def test_links_out_of_the_project_fifos_and_devices_are_skipped_in_bounded_time(make_project, tmp_path):
    project = make_project({"physics": {"good.md": doc("good")}})
    corpus = project.corpus / "physics"
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.md").write_text(doc("secret"))
    (corpus / "secret.md").symlink_to(outside / "secret.md")
    (corpus / "etc").symlink_to("/etc")  # a folder link: not followed
    (corpus / "zero.txt").symlink_to("/dev/zero")
    os.mkfifo(corpus / "pipe.md")
    (project.corpus / "linked").symlink_to(outside)  # a whole discipline out of the project
    started = time.perf_counter()
    result = build(project, until="ingest")
    assert time.perf_counter() - started < 60
    dropped = _dropped(project)
    assert dropped["secret.md"].reason == "outside" and str(outside) in dropped["secret.md"].detail
    assert dropped["zero.txt"].reason == "outside"
    assert dropped["pipe.md"].reason == "not_regular" and "FIFO" in dropped["pipe.md"].detail
    assert dropped["etc"].reason in ("outside", "not_regular")
    assert [r.reason for r in load_shard(project.build, "ingest", "linked")] == ["outside"]
    assert result["dropped"]["documents"] == 5 and result["dropped"]["reasons"]["outside"] >= 3


def test_a_device_inside_allowed_roots_is_not_read(make_project):
    project = make_project({"physics": {"good.md": doc("good")}}, toml='[ingest]\nroots = ["/dev"]\n')
    (project.corpus / "physics" / "zero.txt").symlink_to("/dev/zero")
    build(project, until="ingest")
    assert _dropped(project)["zero.txt"].reason == "not_regular"


def test_reads_are_bounded_whatever_the_size_claims(tmp_path):
    from proda.corpus.readers import load

    big = tmp_path / "big.txt"
    big.write_bytes(b"x" * 5000)
    assert load(big, 1000)[0] == "too_large"
    assert load(big, 10_000) == b"x" * 5000


def test_a_bad_jsonl_line_drops_that_line_only(make_project):
    lines = [json.dumps({"text": doc("one")}).encode(), json.dumps({"text": doc("two")}).encode() + b"\x00",
             b'{"text": "\xff\xfe broken"}', json.dumps({"text": doc("three")}).encode()]
    project = make_project({"physics": {"lines.jsonl": b"\n".join(lines) + b"\n"}})
    build(project, until="ingest")
    kept = {r.path.split("/", 1)[1] for r in load_shard(project.build, "ingest", "physics")
            if type(r).__name__ == "Document"}
    assert kept == {"lines.jsonl#L1", "lines.jsonl#L4"}
    dropped = _dropped(project)
    assert dropped["lines.jsonl#L2"].reason == "binary" and dropped["lines.jsonl#L3"].reason in ("encoding", "malformed")


def test_chunks_respect_their_size_whatever_the_headings(make_project):
    long_line = " ".join(["word"] * 5000)  # 25 kB, no sentence end
    text = f"# {'Title ' * 80}\n\n{long_line}\n\n{doc('tail')}"
    project = make_project({"physics": {"long.md": text}}, toml="[chunk]\nsize = 300\n[ingest]\nmin_quality = 0.0\n")
    build(project, until="chunk")
    chunks = load_shard(project.build, "chunk", "physics")
    assert chunks and max(len(c.text) for c in chunks) <= 300


@pytest.mark.parametrize("name", ["a=b", "patches"])
def test_discipline_names_proda_cannot_use_get_a_clear_message(make_project, proda_cli, name):
    project = make_project({name: {"x.md": doc("x")}})
    for command in ("build", "status"):
        proc = proda_cli(command, "-C", str(project.root), check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert repr(name) in proc.stderr and "rename the folder" in proc.stderr


BAD = [
    ("chunk.size=0", "chunk.size = 0 is out of range", ">= 100"),
    ("ingest.max_bytes=-1", "ingest.max_bytes = -1 is out of range", ">= 1"),
    ("ingest.min_quality=5", "ingest.min_quality = 5 is out of range", "<= 1"),
    ("bench.holdout=1.7", "bench.holdout = 1.7 is out of range", "< 1"),
    ("bench.options=0", "bench.options = 0 is out of range", ">= 2"),
    ("synth.mix=[0,0,0]", "asks for no samples at all", "share above 0"),
    ("synth.mix=[1,2]", "synth.mix = [1, 2] is out of range", "a list of 3 integers"),
    ("extract.min_steps=7", "extract.min_steps = 7 is more than extract.max_steps = 6", "at most"),
    ("compile.epochs=0", "compile.epochs = 0 is out of range", "> 0"),
    ("compile.learning_rate=-0.1", "compile.learning_rate = -0.1 is out of range", "> 0"),
    ("chunk.size=\"big\"", "has the wrong type", "an integer"),
    ("chunk.size.x=5", "chunk.size is a setting, not a section", "chunk.size=VALUE"),
    ("chunk.sise=5", "unknown setting chunk.sise", "did you mean chunk.size"),
    ("garbage", "bad setting 'garbage'", "section.key=value"),
]


@pytest.mark.parametrize("item,message,allowed", BAD, ids=[b[0] for b in BAD])
def test_every_bad_setting_names_key_value_range_and_source(tmp_path, item, message, allowed):
    from proda.config import load

    with pytest.raises(UsageError) as err:
        load(tmp_path / "none.toml", (item,))
    text = str(err.value)
    assert message in text and allowed in text and "--set" in text


def test_settings_errors_name_their_source(tmp_path, make_project, proda_cli):
    project = make_project({"physics": {"a.md": doc("a")}}, toml="[bench]\nholdout = 1.7\n")
    proc = proda_cli("build", "-C", str(project.root), check=False)
    assert proc.returncode == 2 and "bench.holdout = 1.7" in proc.stderr and "specs/proda.toml" in proc.stderr
    (project.root / "specs" / "proda.toml").write_text("")
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "doit", "list"], cwd=project.root, capture_output=True, text=True,
                          env={**os.environ, "PRODA_SET": "garbage"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "bad setting 'garbage' (PRODA_SET)" in proc.stderr


def test_removing_a_discipline_leaves_the_version_and_status_names_it(make_project, tmp_path):
    project = make_project({"physics": {"a.md": doc("a")}, "biology": {"b.md": doc("b")}})
    build(project, until="chunk")
    (project.corpus / "biology").rename(tmp_path / "biology-away")
    project = Project.at(project.root)
    removed = [s for s in status(project)["stale"] if s["reason"].startswith("removed")]
    assert {s["task"] for s in removed} == {"ingest:biology", "chunk:biology"}
    incremental = build(project, until="chunk")["version"]
    clean = tmp_path / "clean"
    init_project(clean)
    (clean / "specs" / "corpus" / "physics").mkdir(parents=True)
    (clean / "specs" / "corpus" / "physics" / "a.md").write_text(doc("a"))
    assert build(Project.at(clean), until="chunk")["version"] == incremental


def test_exports_never_overwrite_what_proda_did_not_write(make_project, proda_cli, tmp_path):
    project = make_project({"physics": {"a.md": doc("a"), "b.md": doc("b")}})
    build(project, until="synth")
    root = str(project.root)
    config = project.root / "specs" / "proda.toml"
    before = config.read_text()
    proc = proda_cli("export", "--format", "chat-jsonl", str(config), "-C", root, check=False)
    assert proc.returncode == 2 and config.read_text() == before
    proc = proda_cli("export", "--format", "chat-jsonl", str(config), "--force", "-C", root, check=False)
    assert proc.returncode == 2 and config.read_text() == before  # never inside specs/
    readme = tmp_path / "mine" / "README.md"
    readme.parent.mkdir()
    readme.write_text("my notes")
    proc = proda_cli("export", "--format", "hf", str(readme.parent), "-C", root, check=False)
    assert proc.returncode == 2 and "did not write" in proc.stderr and readme.read_text() == "my notes"
    out = tmp_path / "train.jsonl"
    proda_cli("export", "--format", "chat-jsonl", str(out), "-C", root)
    proda_cli("export", "--format", "chat-jsonl", str(out), "-C", root)  # its own export: replaced
    out.write_text("edited by hand\n")
    assert proda_cli("export", "--format", "chat-jsonl", str(out), "-C", root, check=False).returncode == 2
    proda_cli("export", "--format", "chat-jsonl", str(out), "--force", "-C", root)
    folder = tmp_path / "ds"
    proda_cli("export", "--format", "hf", str(folder), "-C", root)
    proda_cli("export", "--format", "hf", str(folder), "-C", root)
    assert proda_cli("export", "--format", "lm-eval", str(folder), "-C", root, check=False).returncode == 2


def test_init_never_overwrites_a_file(tmp_path, proda_cli):
    target = tmp_path / "p"
    target.mkdir()
    (target / "dodo.py").write_text("# mine\n")
    proc = proda_cli("init", str(target), check=False)
    assert proc.returncode == 2 and "dodo.py" in proc.stderr
    assert (target / "dodo.py").read_text() == "# mine\n" and not (target / "specs").exists()


def test_build_says_how_many_items_it_kept_and_how_many_candidates_it_dropped(make_project, proda_cli):
    project = make_project({"physics": {"a.md": doc("alpha", 4), "b.md": doc("beta", 4)}})
    out = proda_cli("build", "--until", "bench", "-C", str(project.root)).stdout
    listed = json.loads(proda_cli("stats", "--dropped", "--json", "-C", str(project.root)).stdout)
    dropped = listed["items"]
    assert dropped, "the test corpus should drop some candidates"
    from collections import Counter

    assert listed["by_reason"]["items"] == dict(Counter(i["reason"] for i in dropped))  # the summary counts them
    assert list(listed["by_reason"]["items"].values()) == sorted(listed["by_reason"]["items"].values(), reverse=True)
    assert proda_cli("stats", "--dropped", "-C", str(project.root)).stdout.rstrip().splitlines()[-1].startswith(
        f"{len(dropped)} candidate item(s) dropped: ")
    assert (f"benchmark: 0 items (dev 0, holdout 0); {len(dropped)} candidate item(s) dropped"
            " — why: proda stats --dropped") in out
    # a discipline no item tests is named: the loop cannot measure it
    assert "no benchmark item in: physics (dev and holdout) — the loop cannot test them there" in out
    result = json.loads(proda_cli("build", "--until", "bench", "--json", "-C", str(project.root)).stdout)
    assert result["dropped"]["untested"] == {"physics": ["dev", "holdout"]}
    assert "benchmark:" not in proda_cli("build", "--until", "chunk", "-C", str(project.root)).stdout


def test_show_and_stats_list_dropped_documents(make_project, proda_cli):
    project = make_project({"physics": {"good.md": doc("good"), "empty.md": ""}})
    out = proda_cli("build", "--until", "chunk", "-C", str(project.root)).stdout
    assert "dropped 1 document(s) (1 empty) — list them: proda stats --dropped" in out
    listed = json.loads(proda_cli("stats", "--dropped", "--json", "-C", str(project.root)).stdout)
    [entry] = listed["dropped"]
    assert entry["path"] == "physics/empty.md" and entry["reason"] == "empty"
    assert listed["by_reason"] == {"documents": {"empty": 1}, "items": {}}
    text = proda_cli("stats", "--dropped", "-C", str(project.root)).stdout
    assert text.rstrip().endswith("1 document(s) dropped: 1 empty")
    shown = json.loads(proda_cli("show", entry["key"][:12], "--json", "-C", str(project.root)).stdout)
    assert shown["kind"] == "dropped" and "empty" in shown["trace"][0]["text"]


def test_every_numeric_setting_has_a_range():
    """New settings come with their range (and show it in docs/config.md's type column)."""
    import msgspec.inspect as mi

    from proda import config

    missing = []
    for section in mi.type_info(config.Config).fields:
        for field in getattr(section.type, "fields", ()):
            t = field.type
            if isinstance(t, (mi.IntType, mi.FloatType)) and all(getattr(t, k) is None for k in ("gt", "ge", "lt", "le")):
                missing.append(f"{section.name}.{field.name}")
    assert not missing, f"give these settings a range (Annotated[..., Meta(ge=...)]): {missing}"
    with pytest.raises(UsageError, match="llm.base_url"):
        config.load(Path("/nonexistent.toml"), ("llm.base_url=[]",))
