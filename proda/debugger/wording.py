"""Text helpers of the debugger: clean/capitalise/lower-first, concept name matching, ranking.

(There is deliberately no helper that quotes source text "safely": a patch teaches in its own
wording, and proda/synth/orthogonality.py compares texts reduced to letters, so no cutting or
numbering of a quote could pass it.)"""

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


def cleaned(text: str) -> str:
    return " ".join(text.split()).rstrip(" .;:,")


def lower_first(text: str) -> str:
    """Lower-case a leading capitalised word so a sentence can be embedded ("Water" -> "water";
    acronyms such as "DNA" are kept)."""
    m = re.match(r"[A-Z][a-z]*\b", text)
    return text[0].lower() + text[1:] if m else text


def capitalise(text: str) -> str:
    """Upper-case the first letter, unless the word is mixed-case already ("pH", "mRNA")."""
    return text if text[1:2].isupper() else text[:1].upper() + text[1:]


def sentence(text: str) -> str:
    text = capitalise(cleaned(text))
    return text if not text or text.endswith(("?", "!")) else text + "."


def normalised(text: str) -> str:
    return " ".join(words(text))


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


