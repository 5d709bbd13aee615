"""Bad input gets a clear reason; good documents still build; each dropped one is listed."""

from __future__ import annotations

import json
import os

import pytest

from conftest import doc
from proda.make import build
from proda.engine.outputs import load_shard
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
        "utf16.txt": doc("wide").encode("utf-16-le"),  # no byte-order mark
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
    assert reasons["utf16.txt"] == "encoding"  # not "binary": the fix is to re-save it
    details = {r.path.split("/", 1)[1]: r.detail for r in records if type(r).__name__ == "Dropped"}
    assert "UTF-16" in details["utf16.txt"] and "re-save" in details["utf16.txt"]
    assert "permissions" not in details["loop"] and "link" in details["loop"]
    if os.geteuid() != 0:  # root reads anything
        assert reasons["secret.md"] == "unreadable"
    assert load_shard(project.build, "chunk", "physics")


def test_stats_lists_dropped_documents(make_project, proda_cli):
    project = make_project({"physics": {"good.md": doc("good"), "empty.md": ""}})
    proda_cli("build", "--until", "chunk", "-C", str(project.root))
    stats = json.loads(proda_cli("stats", "--json", "-C", str(project.root)).stdout)
    assert stats["documents"] == 1 and stats["dropped_documents"] == 1


def test_second_build_is_refused_while_locked(make_project):
    from proda.engine import lock
    from proda.errors import LockError

    project = make_project({"physics": {"good.md": doc("good")}})
    import subprocess
    import sys
    import textwrap
    import time

    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from proda.engine import lock
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
        from click.testing import CliRunner

        from proda.cli import main

        debugging = CliRunner().invoke(main, ["debug", "-C", str(project.root)])  # writes specs/: waits its turn
        assert debugging.exit_code == 3 and "another build holds the project lock" in debugging.stderr
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    assert build(Project.at(project.root), until="ingest")["version"]
    del lock


def _pdf(text: str) -> bytes:
    """A minimal one-page PDF with ``text`` in Helvetica, one line per sentence."""
    lines = [s.strip() + "." for s in text.replace("\n", " ").split(".") if s.strip()]
    ops = "BT /F1 9 Tf 20 800 Td 11 TL " + " ".join(
        "(" + line.replace("\\", "").replace("(", "").replace(")", "") + ") '" for line in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 900 840] /Contents 4 0 R "
        "/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(ops)} >>\nstream\n{ops}\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = "%PDF-1.4\n", []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n" + "".join(f"{o:010d} 00000 n \n" for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out.encode("latin-1")


def test_pdf_documents_are_read_and_duplicates_dropped(make_project):
    body = doc("pdfheat").split("\n", 2)[2]
    project = make_project({"physics": {
        "paper.pdf": _pdf(body),
        "broken.pdf": b"%PDF-1.4 not really",
        "a.md": doc("alpha"),
        "b-copy.md": doc("alpha"),                               # exact duplicate
        "c-near.md": doc("alpha").replace("equilibrium", "balance", 1),  # near duplicate
    }})
    build(project, until="chunk")
    records = load_shard(project.build, "ingest", "physics")
    docs = {r.path.split("/", 1)[1]: r for r in records if type(r).__name__ == "Document"}
    reasons = {r.path.split("/", 1)[1]: (r.reason, r.detail) for r in records if type(r).__name__ == "Dropped"}
    assert "paper.pdf" in docs and "molecules" in docs["paper.pdf"].text
    assert reasons["broken.pdf"][0] == "malformed"
    assert "a.md" in docs
    assert reasons["b-copy.md"] == ("duplicate", "duplicate of physics/a.md")
    assert reasons["c-near.md"] == ("duplicate", "duplicate of physics/a.md")


@pytest.mark.parametrize("corpus, says", [
    ({}, "has no discipline folder"),
    ({"physics": {"binary.txt": b"\x00\x01" * 200, "empty.md": ""}}, "gave no training sample"),
])
def test_nothing_to_train_on_is_an_input_error_that_says_what_to_fix(make_project, proda_cli, corpus, says):
    """An empty corpus (or one whose every file is dropped) stops at compile with exit code 2 and
    a message naming the fix, not a tokenizer's traceback; what ran before it is kept."""
    project = make_project(corpus)
    proc = proda_cli("build", "-C", str(project.root), check=False)
    assert proc.returncode == 2, proc.stderr
    assert "nothing to train on" in proc.stderr and says in proc.stderr and "hint:" in proc.stderr
    assert "Traceback" not in proc.stderr
    for discipline in corpus:
        assert (project.build / "synth" / f"{discipline}.json").exists()


def test_a_document_carrying_a_blob_is_not_prose(make_project):
    """Base64 appended to a good document counts as one long word: the quality filter drops it
    (Gopher's mean word length rule) instead of chunking the blob — and the clean copy of the
    same text, which it would otherwise have made a near duplicate, is kept."""
    import base64

    blob = base64.b64encode(os.urandom(300_000)).decode()
    project = make_project({"physics": {"a-blob.md": doc("alpha") + "\n\n" + blob + "\n", "b.md": doc("alpha")}})
    build(project, until="ingest")
    records = load_shard(project.build, "ingest", "physics")
    kept = [r.path for r in records if type(r).__name__ == "Document"]
    dropped = {r.path: r.detail for r in records if type(r).__name__ == "Dropped"}
    assert kept == ["physics/b.md"]
    assert "words of" in dropped["physics/a-blob.md"] and "not prose" in dropped["physics/a-blob.md"]


def test_what_no_stage_reads_is_said_not_skipped_silently(make_project, proda_cli):
    """A file straight in specs/corpus/, a link there to nothing and a patch saved as .json are
    named by `proda build` (text and --json); a patch sample for a discipline the corpus lacks is
    noted with the likely one; a discipline folder linked to another is refused (read twice)."""
    project = make_project({"physics": {"a.md": doc("alpha")}})
    (project.corpus / "stray.md").write_text(doc("stray"))
    (project.corpus / "gone").symlink_to(project.root / "nowhere")
    (project.patches / "0001-fix.json").write_text("{}")
    (project.patches / "0002-fix.jsonl").write_text(
        '{"proda_patch": 1, "created_from": "hand"}\n'
        '{"type": "Sample", "discipline": "physiks", "format": "open", "prompt": "What drives heat flow?", '
        '"response": "A temperature difference drives heat flow.", "origin": "patch"}\n')
    proc = proda_cli("build", "--until", "synth", "-C", str(project.root))
    assert "not read: specs/corpus/stray.md: not in a discipline folder" in proc.stdout
    assert "not read: specs/corpus/gone: a link to nothing" in proc.stdout
    assert "not read: specs/patches/0001-fix.json: not a patch file" in proc.stdout
    assert "not read: specs/corpus/stray.md" in proda_cli("status", "-C", str(project.root)).stdout
    assert "discipline 'physiks', which specs/corpus/ does not have (did you mean 'physics'?)" in proc.stderr
    out = json.loads(proda_cli("build", "--until", "synth", "--json", "-C", str(project.root)).stdout)
    assert {u["path"] for u in out["unread"]} == {"specs/corpus/stray.md", "specs/corpus/gone",
                                                   "specs/patches/0001-fix.json"}
    for link, target in (("physics2", project.corpus / "physics"), ("all", project.corpus)):
        (project.corpus / link).symlink_to(target)
        twice = proda_cli("build", "--until", "ingest", "-C", str(project.root), check=False)
        assert twice.returncode == 2 and "read" in twice.stderr and f"specs/corpus/{link}" in twice.stderr
        (project.corpus / link).unlink()


def test_build_json_names_the_input_error_itself(make_project, proda_cli):
    """Under --json, stdout's one error object named no file ("the input error above"): it now
    carries the first failure's own message, file and line included."""
    project = make_project({"physics": {"a.md": doc("alpha")}})
    patches = project.root / "specs" / "patches"
    patches.mkdir(parents=True, exist_ok=True)
    (patches / "0001-mine.jsonl").write_text('{"proda_patch": 1, "created_from": ""}\nnot json\n')
    proc = proda_cli("build", "--until", "synth", "--json", "-C", str(project.root), check=False)
    assert proc.returncode == 2, proc.stderr
    error = json.loads(proc.stdout)
    assert "0001-mine.jsonl, line 2" in error["error"] and error["exit_code"] == 2, error
