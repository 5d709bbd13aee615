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

_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
_TOKEN = re.compile(r"\S+")
_SENT_END = re.compile(r"[.!?](?:\s|$)")
MARKERS = re.compile(
    r"\b(because|therefore|thus|hence|consequently|as a result|so that|which (?:causes|means|leads)|"
    r"leads? to|results? in|causes?|caused|due to|since|if|when|requires?|increases?|decreases?|"
    r"reduces?|prevents?|enables?|depends? on|is an? |are |defined as|consists? of|produces?)\b",
    re.IGNORECASE,
)


def quality(text: str, cfg) -> str:
    """'' when the document passes, else the reason it does not."""
    tokens = _TOKEN.findall(text)
    n = len(tokens)
    if n < cfg.min_words:
        return f"too short: {n} words, ingest.min_words={cfg.min_words}"
    words = _WORD.findall(text)
    alpha = len(words) / n
    sentences = max(1, len(_SENT_END.findall(text)))
    mean_len = n / sentences
    lines = [line for line in text.split("\n") if line.strip()]
    unique = len(set(lines)) / max(1, len(lines))
    markers = len(MARKERS.findall(text)) * 100 / n
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


_P = np.uint64((1 << 61) - 1)
_rng = np.random.default_rng(20240601)  # fixed: signatures must be identical on every machine
_A = _rng.integers(1, (1 << 61) - 1, size=64, dtype=np.uint64)
_B = _rng.integers(0, (1 << 61) - 1, size=64, dtype=np.uint64)


def shingles(text: str, n: int = 5) -> np.ndarray:
    words = text.lower().split()
    if len(words) < n:
        words = words + [""] * (n - len(words))
    grams = {" ".join(words[i:i + n]) for i in range(len(words) - n + 1)}
    return np.fromiter((xxhash.xxh64_intdigest(g.encode()) & ((1 << 61) - 1) for g in grams), dtype=np.uint64)


def signature(hashes: np.ndarray) -> np.ndarray:
    # (a*h + b) mod p with wrap-around multiplication is a fine universal-ish hash family here
    values = (hashes[None, :] * _A[:, None] + _B[:, None]) % _P
    return values.min(axis=1)


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
