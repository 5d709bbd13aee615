"""Atomic files, content-addressed shards, stage manifests and the per-item memo journal.

Nothing half-written is ever visible: every file is written to a temp name and renamed. A stage
shard's records live in an immutable object ``build/objects/<hash>.msgpack`` (old versions stay
readable for ``proda diff``); its manifest ``build/<stage>/<shard>.json`` is written last and is
the only file doit tracks. The memo journal is append-only and length-framed, so a ``kill -9``
loses at most the record being written; a torn tail is ignored on read.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Iterable

import msgspec

from ..hashing import digest_bytes
from . import layout
from ..records import ANY_RECORD, Record

_enc = msgspec.msgpack.Encoder(order="deterministic")
_dec_records = msgspec.msgpack.Decoder(list[ANY_RECORD])
_frame = struct.Struct("<I")
_entry_dec = msgspec.msgpack.Decoder(tuple[str, msgspec.Raw])  # keeps the payload's raw bytes


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, (json.dumps(obj, indent=1, sort_keys=True) + "\n").encode())


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def encode_records(records: Iterable[Record]) -> bytes:
    return _enc.encode(list(records))


def decode_records(data: bytes) -> list[Any]:
    return _dec_records.decode(data)


class Objects:
    """Content-addressed, write-once storage of record shards."""

    def __init__(self, build: Path):
        self.dir = layout.objects(build)

    def path(self, digest: str) -> Path:
        return self.dir / digest[:2] / f"{digest}.msgpack"

    def put(self, records: list[Record]) -> str:
        data = encode_records(records)
        digest = digest_bytes(data)
        target = self.path(digest)
        if not target.exists():
            atomic_write(target, data)
        return digest

    def get(self, digest: str) -> list[Any]:
        return decode_records(self.path(digest).read_bytes())


class Journal:
    """Append-only memo: recipe key -> encoded output records, one length-framed entry each."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def load(self) -> dict[str, bytes]:
        entries: dict[str, bytes] = {}
        if not self.path.exists():
            return entries
        data = self.path.read_bytes()
        pos, end = 0, len(data)
        while pos + 4 <= end:
            (size,) = _frame.unpack_from(data, pos)
            if pos + 4 + size > end:
                break  # torn tail from a killed writer
            try:
                recipe, raw = _entry_dec.decode(data[pos + 4 : pos + 4 + size])
            except msgspec.DecodeError:
                break
            entries[recipe] = bytes(raw)
            pos += 4 + size
        return entries

    def append(self, recipe: str, payload: bytes) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "ab")
        blob = msgspec.msgpack.encode([recipe, msgspec.Raw(payload)])
        # msgspec.Raw keeps the payload bytes as-is inside the frame
        self._fh.write(_frame.pack(len(blob)) + blob)
        self._fh.flush()

    def rewrite(self, live: dict[str, bytes]) -> None:
        """Compact to the live entries (atomic)."""
        self.close()
        chunks = []
        for recipe in sorted(live):
            blob = msgspec.msgpack.encode([recipe, msgspec.Raw(live[recipe])])
            chunks.append(_frame.pack(len(blob)) + blob)
        atomic_write(self.path, b"".join(chunks))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
