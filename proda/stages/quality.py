"""The ingest quality filter and near-duplicate detection.

Quality keeps scientific or technical, reasoning-dense, non-trivial prose (the paper's filter):
a document must be long enough, mostly words, made of real sentences, and carry explanatory
structure — causal and definitional markers per hundred words. The verdict names the failed
criterion and its value, so a dropped document's reason says what to change.

Near-duplicates: MinHash over word 5-gram shingles (numpy, 64 permutations) and LSH banding
(16 bands of 4) to find candidate pairs; of a duplicate group the first path in sorted order is kept.
"""

from __future__ import annotations

import re

import numpy as np
import xxhash

_SENT_END = re.compile(r"[.!?](?:\s|$)")
_STRIP = str.maketrans("", "", ".,;:!?()[]\"'")
MARKER_WORDS = frozenset(
    "because therefore thus hence consequently cause causes caused since if when require requires "
    "increase increases decrease decreases reduce reduces prevent prevents enable enables produce "
    "produces are".split())
MARKER_PHRASES = ("as a result", "so that", "which causes", "which means", "which leads", "lead to",
                  "leads to", "result in", "results in", "due to", "depend on", "depends on",
                  "defined as", "consist of", "consists of", " is a ", " is an ")


def quality(text: str, cfg) -> str:
    """'' when the document passes, else the reason it does not.

    One pass of str methods (no regex over the whole text except sentence ends): this runs on
    every document of a corpus, at hundreds of MB.
    """
    tokens = text.split()
    n = len(tokens)
    if n < cfg.min_words:
        return f"too short: {n} words, ingest.min_words={cfg.min_words}"
    words = [t for t in (tok.translate(_STRIP) for tok in tokens) if t.isalpha()]
    alpha = len(words) / n
    sentences = max(1, len(_SENT_END.findall(text)))
    mean_len = n / sentences
    lines = [line for line in text.split("\n") if line.strip()]
    unique = len(set(lines)) / max(1, len(lines))
    lower = text.lower()
    hits = sum(1 for w in words if w.lower() in MARKER_WORDS) + sum(lower.count(p) for p in MARKER_PHRASES)
    markers = hits * 100 / n
    long_words = sum(1 for w in words if len(w) >= 8) / max(1, len(words))
    score = (
        0.30 * min(1.0, alpha / 0.85)
        + 0.20 * (1.0 if 6 <= mean_len <= 60 else 0.0)
        + 0.30 * min(1.0, markers / 6.0)
        + 0.10 * min(1.0, long_words / 0.12)
        + 0.10 * unique
    )
    if alpha < 0.5:
        return f"not prose: only {alpha:.0%} of tokens are words"
    if unique < 0.5:
        return f"repetitive: {unique:.0%} of lines are unique"
    if score < cfg.min_quality:
        return (f"low quality score {score:.2f} < ingest.min_quality={cfg.min_quality} "
                f"(reasoning markers {markers:.1f}/100 words, mean sentence {mean_len:.0f} words)")
    return ""


_MASK = (1 << 61) - 1
_rng = np.random.default_rng(20240601)  # fixed: signatures must be identical on every machine
_SALTS = _rng.integers(1, _MASK, size=64, dtype=np.uint64)
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5,
                 0x85EBCA77C2B2AE63], dtype=np.uint64)


def shingles(text: str, n: int = 5) -> np.ndarray:
    """Hashes of the word n-grams of ``text``: each distinct word hashed once (xxh64), the n-gram
    hash mixed from its words' hashes with numpy (vectorised, wrap-around uint64 arithmetic)."""
    words = text.lower().split()
    if len(words) < n:
        words = words + [""] * (n - len(words))
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(w, len(vocab)) for w in words), dtype=np.int64, count=len(words))
    table = np.fromiter((xxhash.xxh64_intdigest(w.encode()) for w in vocab), dtype=np.uint64, count=len(vocab))
    h = table[ids]
    m = len(words) - n + 1
    grams = np.zeros(m, dtype=np.uint64)
    for i in range(n):
        grams ^= h[i:i + m] * _MIX[i]
    return np.unique(grams & np.uint64(_MASK))


def signature(hashes: np.ndarray) -> np.ndarray:
    """64 MinHash values: the minimum of the shingle hashes under 64 salted xor-multiply mixes."""
    return ((hashes[None, :] ^ _SALTS[:, None]) * _MIX[0]).min(axis=1)


def near_duplicates(documents, threshold: float):
    """Returns (kept, [(duplicate, original_path)]) — exact text duplicates and Jaccard >= threshold."""
    documents = sorted(documents, key=lambda d: d.path)
    kept, dups = [], []
    seen_text: dict[str, str] = {}
    bands: dict[tuple, list[int]] = {}
    sigs: list[np.ndarray] = []
    for doc in documents:
        if doc.text in seen_text:
            dups.append((doc, seen_text[doc.text]))
            continue
        hashes = shingles(doc.text)
        sig = signature(hashes)
        candidates = set()
        keys = [(b, sig[b * 4:(b + 1) * 4].tobytes()) for b in range(16)]
        for key in keys:
            candidates.update(bands.get(key, ()))
        match = None
        for index in sorted(candidates):
            jaccard = float(np.mean(sigs[index] == sig))  # MinHash estimate of the Jaccard
            if jaccard >= threshold:
                match = kept[index]
                break
        if match is not None:
            dups.append((doc, match.path))
            continue
        seen_text[doc.text] = doc.path
        for key in keys:
            bands.setdefault(key, []).append(len(kept))
        kept.append(doc)
        sigs.append(sig)
    return kept, dups
