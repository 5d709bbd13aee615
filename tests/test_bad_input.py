"""Bad input gets a clear reason; good documents still build; each dropped one is listed."""

from __future__ import annotations

import json
import os

import pytest

from conftest import doc
from proda.build import build
from proda.engine import load_shard
from proda.project import Project


def test_bad_files_are_dropped_with_reasons(make_project):
    project = make_project({"physics": {
        "good.md": doc("good"),
        "binary.txt": b"\x00\x01\x02" * 100,
        "empty.md": "",
        "latin1.txt": doc("caf\xe9").encode("latin-1"),
        "page.html": "<html><title>Heat</title><body><p>" + doc("html").replace("\n", " ") + "</p></body></html>",
        "lines.jsonl": json.dumps({"text": doc("jsonl")}) + "\n{broken\n",
        "short.txt": "Too short to teach anything.",
        "image.png": b"\x89PNG\r\n",
    }})
    corpus = project.corpus / "physics"
    (corpus / "loop").symlink_to(corpus / "loop")
    unreadable = corpus / "secret.md"
    unreadable.write_text(doc("secret"))
    unreadable.chmod(0)
    big = corpus / "huge.txt"
    big.write_bytes(b"x" * (50 * 1024 * 1024))  # a 50 MB single line
    try:
        build(project, until="chunk")
    finally:
        unreadable.chmod(0o644)
    records = load_shard(project.build, "ingest", "physics")
    kept = {r.path.split("/", 1)[1] for r in records if type(r).__name__ == "Document"}
    reasons = {r.path.split("/", 1)[1]: r.reason for r in records if type(r).__name__ == "Dropped"}
    assert {"good.md", "page.html", "lines.jsonl#L1"} <= kept
    assert reasons["binary.txt"] == "binary"
    assert reasons["empty.md"] == "empty"
    assert reasons["latin1.txt"] == "encoding"
    assert reasons["lines.jsonl#L2"] == "malformed"
    assert reasons["short.txt"] == "quality"
    assert reasons["image.png"] in ("binary", "unsupported")
    assert reasons["huge.txt"] == "too_large"
    assert reasons["loop"] == "unreadable"
    if os.geteuid() != 0:  # root reads anything
        assert reasons["secret.md"] == "unreadable"
    assert load_shard(project.build, "chunk", "physics")


def test_stats_lists_dropped_documents(make_project, proda_cli):
    project = make_project({"physics": {"good.md": doc("good"), "empty.md": ""}})
    proda_cli("build", "--until", "chunk", "-C", str(project.root))
    stats = json.loads(proda_cli("stats", "--json", "-C", str(project.root)).stdout)
    assert stats["documents"] == 1 and stats["dropped_documents"] == 1


def test_second_build_is_refused_while_locked(make_project):
    from proda import lock
    from proda.errors import LockError

    project = make_project({"physics": {"good.md": doc("good")}})
    import subprocess
    import sys
    import textwrap
    import time

    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from proda import lock
        from proda.project import Project
        with lock.hold(Project.at({str(project.root)!r})):
            print("held", flush=True)
            time.sleep(30)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(LockError) as err:
            build(Project.at(project.root), until="ingest")
        assert "pid" in str(err.value)
        assert err.value.exit_code == 3
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert build(Project.at(project.root), until="ingest")["version"]
    del lock
