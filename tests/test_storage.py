"""Record shards read by kind: the decoder skips the kinds a reader did not ask for, and what it
returns is exactly the full read filtered (same records, same order). Bench shards (items and
dropped items) are checked on the example project: tests/test_example_project.py."""

from __future__ import annotations

import pytest

from conftest import doc
from proda.engine import storage
from proda.errors import DamagedError
from proda.engine.outputs import load_shard
from proda.make import build
from proda.records import Chain, Concept, Document, Dropped, Statement


def test_reading_some_kinds_is_the_full_read_filtered(make_project):
    project = make_project({"physics": {"a.md": doc("alpha", 4), "b.md": doc("beta", 4), "empty.md": ""}})
    build(project, until="bench")
    asked = {"ingest": [(Document,), (Dropped,)], "extract": [(Statement, Concept), (Chain,), (Concept, Statement)]}
    for stage, choices in asked.items():
        full = load_shard(project.build, stage, "physics")
        for kinds in choices:
            expected = [r for r in full if isinstance(r, kinds)]
            assert load_shard(project.build, stage, "physics", kinds) == expected
            assert expected, f"{stage} has no {kinds}: the test reads nothing"
    assert any(isinstance(r, Chain) for r in load_shard(project.build, "extract", "physics"))


def test_a_kind_filter_does_not_hide_damage(make_project):
    project = make_project({"physics": {"a.md": doc("alpha", 4)}})
    build(project, until="extract")
    from proda.engine.outputs import read_manifest

    path = storage.Objects(project.build).path(read_manifest(project.build, "extract", "physics")["object"])
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a byte inside some record, asked for or not
    path.chmod(0o644)
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedError):
        load_shard(project.build, "extract", "physics", (Statement,))


def test_records_are_not_tracked_by_the_cycle_collector():
    """Records never form reference cycles (frozen, made of strings, numbers, lists and nested
    structs), so they are declared ``gc=False``: a build holds hundreds of thousands of them, and
    the collector's full passes over them slowed every stage as the heap grew (local-1 5-7% over a
    3,000-document build). A record decoded from an object is untracked too."""
    import gc
    import typing

    from proda.engine.storage import decode_records, encode_records
    from proda.records import ANY_RECORD, Option, Span, Step

    for cls in (*typing.get_args(ANY_RECORD), Option, Span, Step):
        assert cls.__struct_config__.gc is False, cls.__name__
    from proda.records import Chain, make

    chain = make(Chain, chunk="c", doc="d", discipline="physics", process="p", preconditions=["x"],
                 steps=[Step(text="Heat flows.", span=Span(start=0, end=11))])
    assert not gc.is_tracked(chain)
    [back] = decode_records(encode_records([chain]))
    assert back == chain and not gc.is_tracked(back)
