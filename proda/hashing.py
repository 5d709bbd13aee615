"""Content identity: xxh3-128 over a deterministic msgspec encoding.

Keys, not counters: the same defining fields give the same key on every machine and every rebuild.
"""

from __future__ import annotations

from typing import Any

import msgspec
import xxhash

_encoder = msgspec.msgpack.Encoder(order="deterministic")


def canonical(value: Any) -> bytes:
    """Deterministic bytes for any msgspec-encodable value (dict keys sorted)."""
    return _encoder.encode(value)


def digest(value: Any) -> str:
    """xxh3-128 hex digest of the canonical encoding of ``value``."""
    return xxhash.xxh3_128_hexdigest(canonical(value))


def digest_bytes(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def file_digest(path) -> str:
    """xxh3-128 of a file's bytes, read in blocks."""
    hasher = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(block)
    return hasher.hexdigest()
