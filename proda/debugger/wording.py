"""Text helpers of the debugger: word n-grams, clean/capitalise/lower-first, concept name matching,
and quoting a text so that no n-word run of it survives."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from ..hashing import digest
from ..records import Concept, Statement
from ..synth.orthogonality import words
from ..text import relations as R


def asked_about(relation: str, subject: str) -> str | None:
    """The object question for a statement, unless its relation makes it ambiguous."""
    return None if relation in R.AMBIGUOUS else R.object_question(relation, subject)


_CLAUSE = re.compile(
    r"(?<=[,;:])\s+|\s+(?=(?:and|but|which|because|so|while|whereas|thereby|therefore|thus|then"
    r"|until|when|where|leading|resulting|causing|producing)\b)", re.IGNORECASE)


def cleaned(text: str) -> str:
    return " ".join(text.split()).rstrip(" .;:,")


def lower_first(text: str) -> str:
    """Lower-case a leading capitalised word so a sentence can be embedded ("Water" -> "water";
    acronyms such as "DNA" and a leading "(1) " part number are kept)."""
    m = re.match(r"(\(\d+\) )?[A-Z][a-z]*\b", text)
    if not m:
        return text
    i = len(m.group(1) or "")
    return text[:i] + text[i].lower() + text[i + 1:]


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    text = capitalise(cleaned(text))
    return text if not text or text.endswith(("?", "!")) else text + "."


def normalised(text: str) -> str:
    return " ".join(words(text))


def hard_split(piece: str, limit: int) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    for tok in piece.split():
        if cur and len(words(" ".join([*cur, tok]))) > limit:
            out.append(" ".join(cur))
            cur = []
        cur.append(tok)
    return out + ([" ".join(cur)] if cur else [])


def safe_quote(text: str, n: int) -> str:
    """Quote ``text`` without ever reproducing n consecutive words of it.

    Short texts pass unchanged. Longer ones are cut at clause boundaries (and, failing that, by
    words) into parts of at most n-1 words, rendered "(1) ... (2) ...": the inserted numbers break
    every n-gram that would span two parts, while each part still carries the fact verbatim.
    """
    text = cleaned(text)
    limit = n - 1
    if len(words(text)) <= limit:
        return text
    segs: list[str] = []
    cur = ""
    for piece in _CLAUSE.split(text):
        for part in hard_split(piece, limit):
            joined = f"{cur} {part}" if cur else part
            if len(words(joined)) <= limit:
                cur = joined
            else:
                if cur:
                    segs.append(cur)
                cur = part
    if cur:
        segs.append(cur)
    return " ".join(f"({i}) {cleaned(s)}" for i, s in enumerate(segs, 1))


def names_of(c: Concept) -> list[str]:
    return sorted({c.name, *c.aliases} - {""}, key=len, reverse=True)


def name_pattern(c: Concept) -> re.Pattern[str]:
    alts = "|".join(re.escape(x) for x in names_of(c)) or r"(?!x)x"
    return re.compile(rf"(?<!\w)(?:{alts})(?!\w)", re.IGNORECASE)


def mentions(text: str, c: Concept) -> bool:
    """Whether ``text`` names the concept (its name or an alias, as whole words)."""
    return bool(name_pattern(c).search(text))


def unique_texts(texts: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for t in texts:
        k = normalised(t)
        if k and k not in seen:
            seen.add(k)
            out.append(t)
    return out


def ranked(seed: str, records: Iterable, key=lambda r: r.key) -> list:
    return sorted(records, key=lambda r: digest([seed, key(r)]))


def own_records(records: Sequence, keys: Sequence[str]) -> list:
    by_key = {r.key: r for r in records}
    return [by_key[k] for k in dict.fromkeys(keys) if k in by_key] or list(records)


def involves(s: Statement, c: Concept) -> bool:
    names = {normalised(x) for x in names_of(c)}
    return s.key in c.statements or normalised(s.subject) in names or normalised(s.object) in names


