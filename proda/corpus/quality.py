"""The ingest quality filter and near-duplicate detection.

Quality keeps scientific or technical, reasoning-dense, non-trivial prose (the paper's filter):
a document must be long enough, mostly words, made of real sentences, and carry explanatory
structure — causal and definitional markers per hundred words: marker words, and marker phrases
counted as word sequences (stripped, lower-cased words, as the shingles see them; ingest's code
version 4 — they were substrings of the lower-cased text, which also counted "also that" and missed
"is a," and cost 17 scans of the text). The verdict names the failed criterion and its value, so a
dropped document's reason says what to change.

Near-duplicates: MinHash over word 5-gram shingles (numpy, 64 permutations) and LSH banding
(16 bands of 4) to find candidate pairs; of a duplicate group the first path in sorted order is kept.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

_SENT_END = re.compile(r"[.!?](?:\s|$)")
_STRIP = str.maketrans("", "", ".,;:!?()[]\"'")
MARKER_WORDS = frozenset(
    "because therefore thus hence consequently cause causes caused since if when require requires "
    "increase increases decrease decreases reduce reduces prevent prevents enable enables produce "
    "produces are".split())
MARKER_PHRASES = ("as a result", "so that", "which causes", "which means", "which leads", "lead to",
                  "leads to", "result in", "results in", "due to", "depend on", "depends on",
                  "defined as", "consist of", "consists of", " is a ", " is an ")
_PHRASE_WORDS = tuple(tuple(p.split()) for p in MARKER_PHRASES)
_PHRASES: tuple[np.ndarray, np.uint64, tuple[tuple[np.uint64, ...], ...], int] | None = None


def _phrases() -> tuple[np.ndarray, np.uint64, tuple[tuple[np.uint64, ...], ...], int]:
    """The marker phrases as token hashes: a top-bits table of their first words (as for marker
    words), each phrase's hashes, and the longest phrase's length in words."""
    global _PHRASES
    if _PHRASES is None:
        from .tokens import hash_word

        firsts = sorted({hash_word(words[0]) for words in _PHRASE_WORDS})
        bits = next(b for b in range(1, 65) if len({h >> (64 - b) for h in firsts}) == len(firsts))
        table = np.full(1 << bits, firsts[0], dtype=np.uint64)
        for h in firsts:
            table[h >> (64 - bits)] = h
        phrases = tuple(tuple(np.uint64(hash_word(w)) for w in words) for words in _PHRASE_WORDS)
        _PHRASES = (table, np.uint64(64 - bits), phrases, max(map(len, _PHRASE_WORDS)))
    return _PHRASES


def phrase_hits(hashes: np.ndarray) -> int:
    """How often the MARKER_PHRASES occur as word sequences in a document, from the hashes of its
    words (whitespace tokens stripped of punctuation, ASCII-lower-cased, empty ones left out: the
    shingles' words): the tokens that start a phrase are found with one gather, then each phrase
    is compared with the words after those candidates only. ("lead to," and "due\nto" count;
    "mislead tom" and "also that" do not.)"""
    table, shift, phrases, longest = _phrases()
    if len(hashes) < 2:
        return 0
    starts = np.flatnonzero(np.take(table, hashes[:-1] >> shift) == hashes[:-1])
    if not starts.size:
        return 0
    padded = np.concatenate((hashes, np.zeros(longest - 1, dtype=np.uint64)))  # no word hashes to 0
    following = [np.take(padded, starts + k) for k in range(longest)]
    hits = 0
    for phrase in phrases:
        match = following[0] == phrase[0]
        for k in range(1, len(phrase)):
            match &= following[k] == phrase[k]
        hits += int(np.count_nonzero(match))
    return hits


_MARKER_HASHES: tuple[np.ndarray, np.uint64] | None = None
_UNSET = object()


def _marker_hashes() -> tuple[np.ndarray, np.uint64]:
    """A lookup table of the MARKER_WORDS' token hashes, indexed by a hash's top bits (as few as
    keep the markers apart), and the shift that takes those bits: a token is a marker word when
    the slot its hash picks holds that hash. Unused slots hold a marker's hash too (one with
    another slot), so a match always means a marker. One gather instead of np.isin's sort."""
    global _MARKER_HASHES
    if _MARKER_HASHES is None:
        from .tokens import hash_word

        hashes = sorted({hash_word(w) for w in MARKER_WORDS})
        bits = next(b for b in range(1, 65) if len({h >> (64 - b) for h in hashes}) == len(hashes))
        table = np.full(1 << bits, hashes[0], dtype=np.uint64)
        for h in hashes:
            table[h >> (64 - bits)] = h
        _MARKER_HASHES = (table, np.uint64(64 - bits))
    return _MARKER_HASHES


def _word_stats(text: str, found) -> tuple[int, int, int, int, int]:
    """(tokens, words, marker words, long words, sentence ends), from the token arrays.

    A marker word is a word whose lower case is in MARKER_WORDS; ASCII case folding suffices on
    NFKC text (ingest normalises first), where no non-ASCII letter lower-cases to ASCII.
    """
    if found is None:  # code points beyond the BMP: plain str methods, same answers
        words = list(filter(str.isalpha, text.translate(_STRIP).split()))
        counts = Counter(map(str.lower, words))
        return (len(text.split()), len(words), sum(counts[w] for w in MARKER_WORDS),
                sum(1 for w in words if len(w) >= 8), len(_SENT_END.findall(text)))
    word = found.word
    table, shift = _marker_hashes()
    markers = word & found.ascii & (np.take(table, found.hashes >> shift) == found.hashes)
    return (found.count, int(np.count_nonzero(word)), int(np.count_nonzero(markers)),
            int(np.count_nonzero(word & (found.stripped_len >= 8))), found.sentence_ends)


def assess(text: str, cfg) -> tuple[str, np.ndarray | None, int]:
    """(quality verdict, MinHash signature, tokens as len(text.split())) of a document, its text
    tokenised once; no signature for a document the filter drops."""
    from .tokens import tokens

    found = tokens(text)
    verdict = quality(text, cfg, found)
    count = found.count if found is not None else len(text.split())
    return verdict, None if verdict else signature(shingles(text, found=found)), count


MAX_MEAN_WORD = 10  # characters per word (punctuation left out) above which text is not prose: Gopher's rule


def quality(text: str, cfg, found=_UNSET) -> str:
    """'' when the document passes, else the reason it does not.

    Token statistics come from numpy arrays (proda/stages/tokens.py; ``found`` when the caller
    has them already), the rest from whole-text str methods: this runs on every document of a
    corpus, at hundreds of MB.
    """
    if found is _UNSET:
        from .tokens import tokens

        found = tokens(text)
    n, n_words, marker_words, long_count, ends = _word_stats(text, found)
    if n < cfg.min_words:
        return f"too short: {n} words, ingest.min_words={cfg.min_words}"
    # (punctuation left out, as the token arrays count it; the fallback is for code points beyond the BMP)
    letters = int(found.stripped_len.sum()) if found is not None else len("".join(text.translate(_STRIP).split()))
    if letters / n > MAX_MEAN_WORD:  # a blob (base64, a hex dump, a minified file) counts as one word
        return (f"not prose: words of {letters / n:.0f} characters on average (prose has 3 to 10; "
                "encoded data or a blob?)")
    alpha = n_words / n
    sentences = max(1, ends)
    mean_len = n / sentences
    lines = list(filter(str.strip, text.split("\n")))
    unique = len(set(lines)) / max(1, len(lines))
    hits = marker_words + phrase_hits(_words(text, found))
    markers = hits * 100 / n
    long_words = long_count / max(1, n_words)
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


def shingles(text: str, n: int = 5, found=_UNSET) -> np.ndarray:
    """Hashes of the word n-grams of ``text`` (words: whitespace tokens stripped of punctuation,
    ASCII-lower-cased, hashed by proda/stages/tokens.py), each n-gram's hash mixed from its words'
    with wrap-around uint64 arithmetic. Repeats are kept: a MinHash minimum does not change."""
    if found is _UNSET:
        from .tokens import tokens

        found = tokens(text)
    h = _words(text, found)
    if len(h) < n:
        h = np.concatenate((h, np.zeros(n - len(h), dtype=np.uint64)))
    m = len(h) - n + 1
    grams = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for i in range(n):
            grams ^= h[i:i + m] * _MIX[i]
    return grams & np.uint64(_MASK)


def _words(text: str, found) -> np.ndarray:
    """The hashes of the words of ``text``: its whitespace tokens stripped of punctuation, empty
    ones left out, ASCII-lower-cased (proda/corpus/tokens.py)."""
    if found is not None:
        return found.hashes[found.stripped_len > 0]
    from .tokens import hash_word  # code points beyond the BMP: the same hash, one token at a time

    return np.array([hash_word(w) for w in text.translate(_STRIP).lower().split()], dtype=np.uint64)


_BLOCK = 1024  # shingles per block: a 64 x 1024 block and the salts' tile (512 KB each) stay in cache
_TILE: np.ndarray | None = None


def signature(hashes: np.ndarray) -> np.ndarray:
    """64 MinHash values: the minimum of the shingle hashes under 64 salted xor-multiply mixes.

    Mixed a block of shingles at a time, in place in one buffer that stays in the CPU cache (a
    whole document's 64 x n array does not), against a tile of the salts: xor of two same-shaped
    arrays costs about half of xor with a salt broadcast along each row."""
    global _TILE
    if _TILE is None:
        _TILE = np.repeat(_SALTS, _BLOCK).reshape(64, _BLOCK)
    if len(hashes) <= _BLOCK:
        mixed = _TILE[:, :len(hashes)] ^ hashes
        mixed *= _MIX[0]
        return mixed.min(axis=1)
    buffer = np.empty((64, _BLOCK), dtype=np.uint64)
    lows = np.empty((-(-len(hashes) // _BLOCK), 64), dtype=np.uint64)
    for i, start in enumerate(range(0, len(hashes), _BLOCK)):
        block = hashes[start:start + _BLOCK]
        mixed = buffer[:, :len(block)]
        np.bitwise_xor(_TILE[:, :len(block)], block, out=mixed)
        mixed *= _MIX[0]
        np.minimum.reduce(mixed, axis=1, out=lows[i])
    return lows.min(axis=0)


def near_duplicates(documents, threshold: float, signatures: dict[str, np.ndarray] | None = None):
    """Returns (kept, [(duplicate, original_path)]) — exact text duplicates and Jaccard >= threshold.

    ``signatures`` (path -> MinHash signature) are the ones computed in ingest's per-file units;
    a document without one is signed here."""
    signatures = signatures or {}
    documents = sorted(documents, key=lambda d: d.path)
    sigs = [signatures.get(d.path) for d in documents]
    sigs = [signature(shingles(d.text)) if s is None else s for d, s in zip(documents, sigs)]
    texts: dict[str, int] = {}
    for d in documents:
        texts[d.text] = texts.get(d.text, 0) + 1
    # a document alone in every band, with a text of its own, is kept: the pass is for the others
    alone = [a and texts[d.text] == 1 for d, a in zip(documents, _alone(sigs))]
    if all(alone):
        return documents, []
    others = [n for n, a in enumerate(alone) if not a]
    kept, dups = _sequential([(documents[n], sigs[n]) for n in others], threshold)
    survivors = {id(d) for d in kept}
    return [d for d, a in zip(documents, alone) if a or id(d) in survivors], dups


def _alone(sigs: list[np.ndarray]) -> list[bool]:
    """For each signature, whether it shares no LSH band (16 bands of 4 values) with any other.

    Such a document can be no other's candidate nor have one, and an exact duplicate shares every
    band: only the others need the sequential pass. One ``np.unique`` per band over the whole
    shard instead of 16 dictionary probes per document (0.1 s per 6,000 documents, in the driver)."""
    if len(sigs) < 2:
        return [True] * len(sigs)
    bands = np.ascontiguousarray(np.stack(sigs).astype("<u8")).view(np.dtype((np.void, 32)))  # (n, 16)
    shared = np.zeros(len(sigs), dtype=bool)
    for b in range(bands.shape[1]):
        _, inverse, counts = np.unique(bands[:, b], return_inverse=True, return_counts=True)
        shared |= counts[inverse.ravel()] > 1
    return (~shared).tolist()


def _sequential(pairs, threshold: float):
    """The near-duplicate pass proper over (document, signature) pairs in path order: a document
    is a duplicate of the first kept one with its text, or with a band in common and an estimated
    Jaccard >= threshold."""
    kept, dups = [], []
    seen_text: dict[str, str] = {}
    bands: dict[tuple, list[int]] = {}
    sigs: list[np.ndarray] = []
    for doc, sig in pairs:
        if doc.text in seen_text:
            dups.append((doc, seen_text[doc.text]))
            continue
        candidates = set()
        raw = sig.tobytes()  # band b: values 4b..4b+3, as bytes (slicing bytes beats 16 array slices)
        keys = [(b, raw[b * 32:(b + 1) * 32]) for b in range(16)]
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
