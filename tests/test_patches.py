"""Patch files: atomic write, validated read, numbering."""

from __future__ import annotations

import json

import msgspec
import pytest

from proda.synth import patchfile as patches
from proda.errors import UsageError
from proda.records import Diagnosis, Sample, make


def sample(i: int, origin: str = "patch") -> Sample:
    return make(Sample, discipline="chemistry", format=("open", "mcq", "tf")[i % 3],
                prompt=f"Question {i}?", response=f"Answer {i}. Because {i}.",
                statements=[f"s{i}"], concepts=[f"c{i}"], origin=origin, source="0001-debug.jsonl")


DIAG = make(Diagnosis, checkpoint="ck", item="it1", discipline="chemistry", label="concept_gap",
            chain="ch1", nodes=["s1", "c1"], confused_with="The pH rises.")
HEADER = patches.make_header("ck", [DIAG], {"chemistry": 0.25})
SAMPLES = [sample(i) for i in range(4)] + [sample(9, "replay")]


def test_round_trip(tmp_path):
    path = tmp_path / "specs" / "patches" / "0001-debug.jsonl"
    patches.write_patch(path, HEADER, SAMPLES)
    header, samples = patches.read_patch(path)
    assert header == HEADER
    assert header["proda_patch"] == 1 and header["created_from"] == "ck"
    assert header["diagnoses"][0] == {"item": "it1", "label": "concept_gap", "nodes": ["s1", "c1"],
                                      "confused_with": "The pH rises.", "discipline": "chemistry",
                                      "chain": "ch1", "evidence": {}}
    assert samples == SAMPLES
    lines = path.read_text().splitlines()
    assert len(lines) == 1 + len(SAMPLES) and json.loads(lines[1])["prompt"] == "Question 0?"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def test_a_patch_unit_carries_its_bytes(tmp_path):
    """synth's patch units are (path, bytes): a worker (on another machine, with Ray) parses the
    bytes the unit's key was made of, without reading specs/ — nor a file edited since."""
    from proda.stages.synth import patch_samples

    path = tmp_path / "0001-debug.jsonl"
    patches.write_patch(path, HEADER, SAMPLES)
    raw = path.read_bytes()
    path.unlink()
    assert patch_samples((str(path), raw)) == SAMPLES


def test_write_replaces_atomically_and_adds_the_version(tmp_path):
    path = tmp_path / "0001-x.jsonl"
    patches.write_patch(path, HEADER, SAMPLES)
    header = {k: v for k, v in HEADER.items() if k != "proda_patch"}
    patches.write_patch(path, header, SAMPLES[:1])
    assert patches.read_patch(path) == (HEADER, SAMPLES[:1])
    with pytest.raises(ValueError):
        patches.write_patch(path, {"created_from": 3}, [])
    assert patches.read_patch(path) == (HEADER, SAMPLES[:1])  # a failed write changes nothing


def test_hand_edited_lines_get_their_key_recomputed(tmp_path):
    path = tmp_path / "0002-hand.jsonl"
    good = msgspec.to_builtins(SAMPLES[0])
    edited = {**good, "response": "A better answer."}  # stale key from before the edit
    bare = {"discipline": "chemistry", "format": "tf", "prompt": "Is it so?", "response": "True."}
    path.write_text("\n".join(json.dumps(x) for x in [HEADER, edited, bare]) + "\n\n")
    _, (first, second) = patches.read_patch(path)
    assert first.response == "A better answer." and first.key != good["key"]
    assert first.key == make(Sample, **{k: v for k, v in edited.items()
                                        if k not in ("key", "type")}).key
    assert (second.origin, second.source, second.statements) == ("patch", path.name, [])
    assert second.key == make(Sample, discipline="chemistry", format="tf", prompt="Is it so?",
                              response="True.", statements=[], concepts=[], origin="patch",
                              source=path.name).key


GOOD_LINE = json.dumps({"discipline": "chemistry", "format": "open", "prompt": "Q?",
                        "response": "A."})


@pytest.mark.parametrize(("line", "what"), [
    ('{"discipline": "chemistry", "format": "open", "prompt": "Q?"', "not valid JSON"),
    (GOOD_LINE[:-1] + ', "colour": "red"}', "unknown field `colour`"),
    (GOOD_LINE.replace('"Q?"', "42"), "field prompt"),
    ('{"discipline": "chemistry", "format": "open", "prompt": "Q?"}', "missing required field"),
    (GOOD_LINE.replace('"open"', '"essay"'), "format 'essay'"),
    (GOOD_LINE[:-1] + ', "origin": "synth"}', "origin 'synth'"),
    (GOOD_LINE[:-1] + ', "type": "Item"}', "'Item' record"),
    ("[1, 2]", "Expected `object`"),
])
def test_malformed_lines_name_the_file_and_line(tmp_path, line, what):
    path = tmp_path / "0003-bad.jsonl"
    path.write_text("\n".join([json.dumps(HEADER), GOOD_LINE, line, GOOD_LINE]) + "\n")
    with pytest.raises(UsageError) as err:
        patches.read_patch(path)
    message = str(err.value)
    assert f"{path}, line 3:" in message and what in message, message
    assert ("not valid JSON" in message) == (what == "not valid JSON")
    assert err.value.exit_code == 2 and err.value.hint


@pytest.mark.parametrize(("text", "what"), [
    ("", "missing patch header"),
    ("\n\n", "missing patch header"),
    (GOOD_LINE + "\n", "missing patch header"),
    ("not json\n", "not valid JSON"),
    ('{"proda_patch": "one"}\n', "Expected `int`"),
    ('{"proda_patch": 2, "created_from": "ck"}\n', "unsupported patch format version 2"),
    ('{"proda_patch": 1, "created_from": "ck", "extra": 1}\n', "unknown field `extra`"),
])
def test_a_missing_or_bad_header_is_reported(tmp_path, text, what):
    path = tmp_path / "0004-bad.jsonl"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        patches.read_patch(path)
    assert str(path) in str(err.value) and "line" in str(err.value) and what in str(err.value)


def test_non_utf8_and_missing_files(tmp_path):
    path = tmp_path / "0005-bin.jsonl"
    path.write_bytes(json.dumps(HEADER).encode() + b"\n\xff\xfe\n")
    with pytest.raises(UsageError, match="line 2: not UTF-8"):
        patches.read_patch(path)
    with pytest.raises(UsageError, match="cannot read"):
        patches.read_patch(tmp_path / "nope.jsonl")


def test_next_patch_path_numbers_above_the_highest(tmp_path):
    d = tmp_path / "patches"
    assert patches.next_patch_path(d, "debug") == d / "0001-debug.jsonl"
    d.mkdir()
    for name in ("0001-debug.jsonl", "0007-fix.jsonl", "0099-notes.txt", "README.md",
                 ".0008-x.jsonl.tmp"):
        (d / name).write_text("")
    assert patches.next_patch_path(d, "Concept gaps / v2") == d / "0008-concept-gaps-v2.jsonl"
    assert patches.next_patch_path(d, "") == d / "0008-patch.jsonl"
    assert [p.name for p in patches.list_patches(d)] == ["0001-debug.jsonl", "0007-fix.jsonl"]
