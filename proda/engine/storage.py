"""Atomic files, content-addressed shards, stage manifests and the per-item memo journal.

Nothing half-written is ever visible: every file is written to a temp name and renamed. A stage
shard's records live in an immutable object ``build/objects/<hash>.msgpack`` (old versions stay
readable for ``proda diff``); its manifest ``build/<stage>/<shard>.json`` is written last and is
the only file doit tracks. The memo journal is append-only and framed, so a ``kill -9``
loses at most the record being written; a torn tail is ignored on read.

Nothing is trusted either: an object is served only when its bytes hash to its name (one xxh3
pass, GB/s), otherwise reading it raises :class:`Damaged` and ``put`` replaces it; every journal
frame carries a checksum, and a frame that fails it is dropped (its unit is recomputed).
"""

from __future__ import annotations

import json
import os
import struct
import tempfile
from pathlib import Path
from typing import Any, Iterable, Union, get_args

import msgspec
import xxhash

from ..hashing import digest_bytes
from . import layout
from ..records import ANY_RECORD, Record

_enc = msgspec.msgpack.Encoder(order="deterministic")
_dec_records = msgspec.msgpack.Decoder(list[ANY_RECORD])
_frame = struct.Struct("<4sIQ")  # magic, payload size, xxh3-64 of the payload
_MAGIC = b"\xa5PJ1"  # starts every frame, so a reader can find the next good one after damage
_HEADER = b"proda-journal 2\n"  # version 1 had bare length frames without checksums
_legacy_frame = struct.Struct("<I")
_entry_dec = msgspec.msgpack.Decoder(tuple[str, msgspec.Raw])  # keeps the payload's raw bytes


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file, on disk (fsync) before it is renamed
    over it, so that a power cut leaves the old file or the new one, never an empty one."""
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


def try_read_json(path: Path) -> Any:
    """``read_json``, or None when the file is missing or not JSON (derived state, rebuilt)."""
    try:
        return read_json(path)
    except (OSError, ValueError):
        return None


class Damaged(Exception):
    """A file under build/ that is missing or does not hold what its name or record says."""

    def __init__(self, path: Path, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def encode_records(records: Iterable[Record]) -> bytes:
    return _enc.encode(list(records))


def decode_records(data: bytes, kinds: tuple[type, ...] | None = None) -> list[Any]:
    """The records of a shard's bytes; with ``kinds``, only the records of those kinds (the others
    are skipped by the decoder, not built: a reader of statements does not pay for chains)."""
    if kinds is None:
        return _dec_records.decode(data)
    decoder = _dec_kinds.get(kinds) or _kinds_decoder(kinds)
    return [r for r in decoder.decode(data) if not isinstance(r, _Skipped)]


class _Skipped(msgspec.Struct, forbid_unknown_fields=False):
    """A record of a kind the reader did not ask for: its tag is read, its fields are not."""


_dec_kinds: dict[tuple[type, ...], msgspec.msgpack.Decoder] = {}


def _kinds_decoder(kinds: tuple[type, ...]) -> msgspec.msgpack.Decoder:
    union = []
    for kind in get_args(ANY_RECORD):
        if kind in kinds:
            union.append(kind)
        else:
            config = kind.__struct_config__
            union.append(msgspec.defstruct(f"Skipped{kind.__name__}", [], bases=(_Skipped,),
                                           tag_field=config.tag_field, tag=config.tag))
    decoder = _dec_kinds[kinds] = msgspec.msgpack.Decoder(list[Union[tuple(union)]])
    return decoder


class Objects:
    """Content-addressed storage of record shards: served only when the bytes match the name."""

    def __init__(self, build: Path):
        self.dir = layout.objects(build)

    def path(self, digest: str) -> Path:
        return self.dir / digest[:2] / f"{digest}.msgpack"

    def put(self, records: list[Record]) -> str:
        data = encode_records(records)
        digest = digest_bytes(data)
        if self.problem(digest) is not None:  # missing, or damaged: write (replace) it
            atomic_write(self.path(digest), data)
        return digest

    def problem(self, digest: str) -> str | None:
        """None when the object exists and its bytes hash to its name; else what is wrong."""
        try:
            self.read(digest)
        except Damaged as exc:
            return exc.problem
        return None

    def read(self, digest: str) -> bytes:
        path = self.path(digest)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise Damaged(path, "missing") from None
        except OSError as exc:
            raise Damaged(path, f"unreadable ({exc.strerror or exc})") from None
        if digest_bytes(data) != digest:
            raise Damaged(path, "its bytes do not hash to its name")
        return data

    def get(self, digest: str, kinds: tuple[type, ...] | None = None) -> list[Any]:
        data = self.read(digest)
        try:
            return decode_records(data, kinds)
        except msgspec.DecodeError as exc:  # verified bytes of another format: not a record shard
            raise Damaged(self.path(digest), f"not a record shard ({exc})") from None


class Journal:
    """Append-only memo: recipe key -> encoded output records, one checksummed frame each.

    A file starts with a header line; each frame is a magic tag, the payload size, the payload's
    xxh3-64 and the payload (``[recipe, records]``). A frame whose checksum fails is dropped and
    counted (``damaged``); reading resumes at the next magic tag, so one bad frame costs one
    unit. A short last frame is the torn tail of a killed writer, and is ignored.
    """

    def __init__(self, path: Path):
        self.path = path
        self._fh = None
        self.damaged = 0  # frames dropped on load (checksum failed, or unreadable)
        self.frames = 0  # good frames read on load (more than entries if a recipe repeats)
        self.torn = False  # the file ended inside a frame (a killed writer)

    def load(self, repair: bool = True) -> dict[str, bytes]:
        """The entries that verify. With ``repair`` a damaged, torn or old-format file is
        rewritten at once (good entries only), so new frames never follow a bad one."""
        entries: dict[str, bytes] = {}
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return entries
        except OSError:
            self.damaged += 1
            data = b""
        if data.startswith(_HEADER) or _MAGIC in data[:64]:
            if not data.startswith(_HEADER):
                self.damaged += 1  # the header itself is damaged; the frames may not be
            self.torn = not self._parse(data, entries)
            if (self.torn or self.damaged) and repair:
                self.rewrite(entries)  # now, so new frames never follow a damaged or torn one
        elif data:
            self._parse_legacy(data, entries)
            if repair:
                self.rewrite(entries)  # upgrade to checksummed frames before anything is appended
        return entries

    def _parse(self, data: bytes, entries: dict[str, bytes]) -> bool:
        """Read the frames into ``entries``; False when the file ends in a torn frame."""
        pos, end = data.find(_MAGIC), len(data)
        if data.startswith(_HEADER) and pos != len(_HEADER) and end > len(_HEADER):
            self.damaged += 1  # the first frame lost its magic tag
        while 0 <= pos < end:
            ok = pos + _frame.size <= end
            if not ok and data.find(_MAGIC, pos + 1) < 0:
                return False  # torn tail: a frame header cut short
            if ok:
                magic, size, check = _frame.unpack_from(data, pos)
                start = pos + _frame.size
                if magic != _MAGIC:
                    ok = False
                elif start + size > end:
                    if data.find(_MAGIC, pos + 1) < 0:
                        return False  # torn tail from a killed writer: nothing follows it
                    ok = False
                else:
                    blob = data[start:start + size]
                    ok = xxhash.xxh3_64_intdigest(blob) == check
                    if ok:
                        try:
                            recipe, raw = _entry_dec.decode(blob)
                        except msgspec.DecodeError:
                            ok = False
                        else:
                            entries[recipe] = bytes(raw)
                            self.frames += 1
                            pos = start + size
                            continue
            if not ok:
                self.damaged += 1
                nxt = data.find(_MAGIC, pos + 1)
                if nxt < 0:
                    break
                pos = nxt
        return True

    @staticmethod
    def _parse_legacy(data: bytes, entries: dict[str, bytes]) -> None:
        pos, end = 0, len(data)
        while pos + 4 <= end:
            (size,) = _legacy_frame.unpack_from(data, pos)
            if pos + 4 + size > end:
                break
            try:
                recipe, raw = _entry_dec.decode(data[pos + 4: pos + 4 + size])
            except msgspec.DecodeError:
                break
            entries[recipe] = bytes(raw)
            pos += 4 + size

    @staticmethod
    def _frame_bytes(recipe: str, payload: bytes) -> bytes:
        blob = msgspec.msgpack.encode([recipe, msgspec.Raw(payload)])  # payload bytes kept as-is
        return _frame.pack(_MAGIC, len(blob), xxhash.xxh3_64_intdigest(blob)) + blob

    def append(self, recipe: str, payload: bytes) -> None:
        self.append_many([(recipe, payload)])

    def append_many(self, entries: Iterable[tuple[str, bytes]]) -> None:
        """Append a batch of (recipe, payload) frames with one write: each frame stays whole and
        checksummed, so a kill mid-write tears at most the tail (dropped on read)."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "ab")
            if self._fh.tell() == 0:
                self._fh.write(_HEADER)
        self._fh.write(b"".join(self._frame_bytes(recipe, payload) for recipe, payload in entries))
        self._fh.flush()

    def rewrite(self, live: dict[str, bytes]) -> None:
        """Compact to the live entries (atomic)."""
        self.close()
        atomic_write(self.path, _HEADER + b"".join(self._frame_bytes(r, live[r]) for r in sorted(live)))

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
