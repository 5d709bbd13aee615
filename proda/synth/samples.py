"""synth (Builder): training samples from L1 concepts and L2 statements, by sliding windows.

Input → output: a discipline's ``Statement``s are grouped by :func:`window_units` into windows of
``synth.window`` adjacent relational statements (within one document, in text order; one window
focused on each statement, so every statement is taught exactly once). Each window gives
one ``Sample`` (:func:`samples_for_window`) in the format open / mcq / tf, drawn from a hash of the
window's statement keys so that over many windows the ``synth.mix`` ratio (6:3:1) holds and a window
keeps its format across rebuilds. A window sees each concept through its own statements only
(:class:`ConceptIndex`), so a concept gaining statements elsewhere changes no window; the synth
stage memoises a document's windows together (:func:`by_document`).

Samples teach the facts (relations, definitions) in new template wordings — "What does X cause?",
"Explain the effect of X on Y.", "True or false: X decreases Y." — never the benchmark's shape (a chain's
steps followed by "which is the conclusion"). Every response is the answer, then an explanation that
cites the relations and definitions it rests on and, for mcq / tf, says why each distractor or the
false claim is wrong. No text ever contains a record key.

Budgets: :func:`allocate_budget` splits a total over disciplines (uniform, or proportional to the last
diagnosis' error rates); :func:`budget_windows` picks a deterministic subset of windows (top-k by a
seeded hash, so adding a window changes the selection by at most one). Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import msgspec

from ..config import SynthConfig
from ..errors import UsageError
from ..hashing import digest
from ..records import Concept, Sample, Statement, make
from ..text import relations as R
from .orthogonality import words

FORMATS = ("open", "mcq", "tf")
LETTERS = "ABCDEFGH"

# What kind of link the relation is: the first sentence of every explanation.
_KIND = {r: "the link is directional: it runs from {s} to {o}, not the reverse"
         for r in ("causes", "increases", "decreases", "enables", "prevents", "produces", "requires", "precedes")}
_KIND |= {"is_a": "{s} belongs to the broader category {o}", "part_of": "{s} is one component of {o}",
          "consists_of": "{o} is one component of {s}", "defined_as": "this is what the term {s} means here",
          "related_to": "the source connects {s} with {o}"}
_EFFECT = {"causes", "increases", "decreases", "enables", "prevents", "produces", "requires"}


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _cap(text: str) -> str:
    return text if text[1:2].isupper() else text[:1].upper() + text[1:]  # keep "pH", "DNA"


def _sentence(text: str) -> str:
    text = text.strip()
    return _cap(text) + ("" if text.endswith((".", "!", "?")) else ".")


def _hash_int(*parts: object) -> int:
    return int(digest(list(parts))[:15], 16)


def _relation(s: Statement) -> R.Phrasing:
    return R.phrasing(s.relation)


# Words a clipped definition must not end on.
_DANGLING = {"a", "an", "the", "of", "in", "on", "at", "to", "for", "with", "by", "from", "or", "and", "as",
             "that", "which", "who", "whose", "both", "its", "their", "is", "are", "be", "when", "where",
             "while", "because", "so", "than", "into", "one", "more", "most", "some", "such", "can", "not"}
_DEFINES = re.compile(r"^\s*(?:(?:a|an|the)\s+)?(?P<head>.+?)\s+(?:is|are|means|refers to)\s+(?P<body>.+)$",
                      re.IGNORECASE | re.DOTALL)


class Names:
    """Canonical concept names for statement subjects/objects, and short restated definitions.

    A definition is never copied whole: only its defining phrase (what follows "X is"), clipped to
    fewer than ``limit`` words and restated as "X can be described as ...", so a sample cannot repeat
    a long run of corpus text (the benchmark's stems and answers are corpus text).
    """

    def __init__(self, concepts: Sequence[Concept], limit: int):
        self.limit = limit
        self.by_form: dict[str, Concept] = {}
        for c in sorted(concepts, key=lambda c: c.key):
            for form in (c.name, *c.aliases):
                self.by_form.setdefault(_norm(form), c)

    def concept(self, surface: str) -> Concept | None:
        return self.by_form.get(_norm(surface))

    def name(self, surface: str) -> str:
        c = self.concept(surface)
        return c.name if c else surface.strip()

    def definition(self, surface: str) -> str:
        c = self.concept(surface)
        if c is None or not c.definition.strip() or self.limit < 2:
            return ""
        text = c.definition.strip().rstrip(".")
        forms = {_norm(f) for f in (c.name, *c.aliases)}
        m = _DEFINES.match(text)
        if m and _norm(m.group("head")).removesuffix("s") in {f.removesuffix("s") for f in forms}:
            body = m.group("body")
        elif not any(f and f in _norm(text) for f in forms) and re.match(r"(?i:(?:a|an|any|one|some)\s)|[a-z]", text):
            body = text  # a bare defining phrase ("a solution that resists changes in pH")
        else:
            return ""  # a sentence that mentions the concept without defining it
        words = body.split()[:self.limit]
        while words and (words[-1].lower().strip(",;:") in _DANGLING or not words[-1].strip(",;:")):
            words.pop()
        if len(words) < 2:
            return ""
        words[-1] = words[-1].rstrip(",;:")
        return _sentence(f"{c.name} can be described as {' '.join(words)}")


class _Plain(Names):
    """The same names without any definition (the fallback when a definition would leak source text)."""

    def definition(self, surface: str) -> str:
        return ""


def _claim(names: Names, s: Statement, phrase: str | None = None, swap: bool = False) -> str:
    subject, obj = names.name(s.subject), names.name(s.object)
    if swap:
        subject, obj = obj, subject
    return _sentence(f"{subject} {phrase or _relation(s)[0]} {obj}")


def _support(names: Names, window: Sequence[Statement], focus: Statement) -> str:
    """The explanation's justification: definitions of the focus' concepts, then the window's other facts."""
    subject, obj = names.name(focus.subject), names.name(focus.object)
    parts = [_sentence(_KIND.get(focus.relation, "{s} and {o} are linked in the source").format(s=subject, o=obj)),
             names.definition(focus.subject), names.definition(focus.object)]
    for other in window:
        if other is not focus:
            parts.append("A related fact: " + _claim(names, other)[:1].lower() + _claim(names, other)[1:])
    return " ".join(p for p in parts if p)


def _false_claims(names: Names, window: Sequence[Statement], focus: Statement) -> list[tuple[str, str]]:
    """Wrong statements about the focus fact, each with the reason it is wrong."""
    phrase, _, inverse, asymmetric = _relation(focus)
    subject, obj = names.name(focus.subject), names.name(focus.object)
    true_triples = {(_norm(names.name(s.subject)), s.relation, _norm(names.name(s.object))) for s in window}
    out: list[tuple[str, str]] = []
    if inverse:
        out.append((_claim(names, focus, inverse),
                    f"it inverts the relation: in fact {subject} {phrase} {obj}"))
    if asymmetric:
        out.append((_claim(names, focus, swap=True),
                    f"it reverses subject and object: it is {subject} that {phrase} {obj}, not the other way"))
    others: list[str] = []
    for s in window:
        for side in (s.subject, s.object):
            name = names.name(side)
            if _norm(name) not in (_norm(subject), _norm(obj)) and name not in others:
                others.append(name)
    for name in others:
        if (_norm(subject), focus.relation, _norm(name)) in true_triples:
            continue
        why = f"{subject} {phrase} {obj}, not {name}"
        definition = names.definition(name)
        if definition:
            why += f"; {definition[:1].lower() + definition[1:].rstrip('.')}"
        out.append((_sentence(f"{subject} {phrase} {name}"), why))
    out.append((_sentence(f"{subject} has no relation to {obj}"),
                f"the two are linked: {subject} {phrase} {obj}"))
    if not asymmetric:  # few other wrong readings of a symmetric link: offer the opposite one
        out.append((_sentence(f"{subject} is the opposite of {obj}"),
                    f"the source does not contrast them: {subject} {phrase} {obj}"))
    return out


def _open(names: Names, window: Sequence[Statement], focus: Statement, pick: int) -> tuple[str, str]:
    subject, obj = names.name(focus.subject), names.name(focus.object)
    prompts = [R.object_question(focus.relation, subject) or f"What is {subject} linked to?",
               f"Describe the relationship between {subject} and {obj}."]
    if focus.relation in _EFFECT:
        prompts.append(f"Explain the effect of {subject} on {obj}.")
    prompt = prompts[pick % len(prompts)]
    explanation = _support(names, window, focus)
    return prompt, f"{_claim(names, focus)} Explanation: {explanation}"


def _mcq(names: Names, window: Sequence[Statement], focus: Statement, pick: int, n: int,
         seed: str) -> tuple[str, str]:
    subject = names.name(focus.subject)
    truth = _claim(names, focus)
    options = [(truth, "")]
    seen = {_norm(truth)}
    for text, why in _false_claims(names, window, focus):
        if len(options) >= max(2, n) or _norm(text) in seen:
            continue
        seen.add(_norm(text))
        options.append((text, why))
    options.sort(key=lambda o: digest([seed, o[0]]))
    lead = ["Which of the following statements about {s} is correct?",
            "Choose the correct statement about {s}.",
            "Which statement correctly describes {s}?"][pick % 3].format(s=subject)
    prompt = lead + "\n" + "\n".join(f"{LETTERS[i]}. {t.rstrip('.')}" for i, (t, _) in enumerate(options))
    right = next(i for i, o in enumerate(options) if not o[1])
    refutations = " ".join(f"{LETTERS[i]} is wrong because {why}." for i, (_, why) in enumerate(options) if why)
    support = _support(names, window, focus)
    response = f"{LETTERS[right]}. {truth} Explanation: {support} {refutations}".replace("  ", " ")
    return prompt, response


def _tf(names: Names, window: Sequence[Statement], focus: Statement, pick: int) -> tuple[str, str]:
    truth = _claim(names, focus)
    false_claims = _false_claims(names, window, focus)
    support = _support(names, window, focus)
    if pick % 2 == 0:
        wrong, why = false_claims[0]
        response = f"True. {truth} Explanation: {support} The opposite claim, that {_lc(wrong)}, is false: {why}."
        return f"True or false: {truth}", response.replace("  ", " ")
    wrong, why = false_claims[(pick // 2) % len(false_claims)]
    response = f"False. {truth} Explanation: The claim is wrong because {why}. {support}"
    return f"True or false: {wrong}", response.strip()


def _lc(text: str) -> str:
    return (text[:1].lower() + text[1:]).rstrip(".")


def _repeats_source(text: str, sources: Sequence[str], n: int) -> bool:
    """Whether ``text`` repeats ``n`` consecutive words of a source sentence (what items are made of)."""
    grams = set()
    for source in sources:
        w = words(source)
        grams.update(tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    w = words(text)
    return any(tuple(w[i:i + n]) in grams for i in range(len(w) - n + 1))


def format_of(window: Sequence[Statement], mix: Sequence[int]) -> str:
    """open / mcq / tf for a window: a hash of its statement keys modulo sum(mix)."""
    total = sum(max(0, m) for m in mix[:3])
    if total <= 0:
        return "open"
    slot = _hash_int("synth-format", [s.key for s in window]) % total
    for fmt, weight in zip(FORMATS, mix):
        if slot < weight:
            return fmt
        slot -= max(0, weight)
    return "open"


def samples_for_window(statements: Sequence[Statement], concepts: Sequence[Concept], cfg: SynthConfig,
                       discipline: str) -> list[Sample]:
    """One sample teaching the window's first statement, in the format the window's hash assigns."""
    if not statements:
        return []
    window = list(statements)
    focus = window[0]
    keys = [s.key for s in window]
    fmt = format_of(window, cfg.mix)
    pick = _hash_int("synth-template", keys)
    limit = cfg.ngram - 3  # words of a definition phrase; the template around it breaks the run
    sources = [s.quote for s in window] + [c.definition for c in concepts]
    for names in (Names(concepts, limit), _Plain(concepts, 0)):
        if fmt == "open":
            prompt, response = _open(names, window, focus, pick)
        elif fmt == "mcq":
            prompt, response = _mcq(names, window, focus, pick, cfg.mcq_options, digest(["synth-mcq", keys]))
        else:
            prompt, response = _tf(names, window, focus, pick)
        if not _repeats_source(prompt + "\n" + response, sources, cfg.ngram):
            break
    used = {c.key for s in window for side in (s.subject, s.object) if (c := names.concept(side))}
    return [make(Sample, discipline=discipline, format=fmt, prompt=prompt, response=response,
                 statements=keys, concepts=sorted(used), origin="synth", source="")]


def window_units(statements: Sequence[Statement], window: int) -> list[list[Statement]]:
    """Windows of ``window`` adjacent statements of one document, one focused on each statement.

    The focus (first) is followed by the statements after it, or, at the end of a document, by those
    just before it. Windows never cross documents, so an edit of one document changes only its own windows.
    """
    size = max(1, window)
    by_doc: dict[str, list[Statement]] = {}
    for s in statements:
        by_doc.setdefault(s.doc, []).append(s)
    units: list[list[Statement]] = []
    for doc in sorted(by_doc):
        ordered = sorted(by_doc[doc], key=lambda s: (s.span.start, s.span.end, s.chain, min(s.steps, default=0), s.key))
        for i in range(len(ordered)):
            # the statement and those after it; near the end, those before it (so every window of a
            # document with enough statements has ``size`` of them as context)
            after = ordered[i:i + size]
            before = ordered[max(0, i - (size - len(after))):i]
            units.append(after + before[::-1])
    return units


class ConceptIndex:
    """Which concepts name each statement, and where it sits in each concept's statements."""

    def __init__(self, concepts: list[Concept]):
        self.rank = {id(c): i for i, c in enumerate(concepts)}
        self.of: dict[str, list[Concept]] = {}
        self.at: dict[int, dict[str, list[int]]] = {}  # per concept: statement key -> its places
        for c in concepts:
            places = self.at[id(c)] = {}
            for i, k in enumerate(c.statements):
                places.setdefault(k, []).append(i)
            for k in places:
                self.of.setdefault(k, []).append(c)

    def view(self, statements: list[Statement], in_order: bool = False) -> list[Concept]:
        """The concepts of these statements as they see them: each with only its statements among
        them (parents elsewhere do not matter), in order of first mention — or, ``in_order``, in
        the index's own order."""
        keys = {s.key for s in statements}
        seen, mine = set(), []
        for s in statements:
            for c in self.of.get(s.key, []):
                if c.key not in seen:
                    seen.add(c.key)
                    # c.statements among these, in c's order: found by their keys (a few) instead
                    # of a pass over every statement of the concept
                    places = self.at[id(c)]
                    kept = sorted(i for k in keys if k in places for i in places[k])
                    mine.append((self.rank[id(c)], msgspec.structs.replace(c, statements=[c.statements[i] for i in kept])))
        if in_order:
            mine.sort(key=lambda pair: pair[0])
        return [c for _, c in mine]


def by_document(units: list[list[Statement]]) -> list[list[list[Statement]]]:
    """Consecutive windows of one document together (windows never cross documents)."""
    groups: list[list[list[Statement]]] = []
    for window in units:
        if groups and groups[-1][0][0].doc == window[0].doc:
            groups[-1].append(window)
        else:
            groups.append([window])
    return groups


def budget_windows(units: Sequence[Sequence[Statement]], budget: int, seed: str) -> list[list[Statement]]:
    """All units when ``budget`` is 0 (or covers them); else the ``budget`` units ranked first by a seeded
    hash of their statement keys, kept in their original order."""
    if budget <= 0 or budget >= len(units):
        return [list(u) for u in units]
    ranked = sorted(range(len(units)), key=lambda i: (digest([seed, [s.key for s in units[i]]]), i))
    keep = sorted(ranked[:budget])
    return [list(units[i]) for i in keep]


def allocate_budget(disciplines: Sequence[str], total: int, error_rates: Mapping[str, float] | None,
                    mode: str) -> dict[str, int]:
    """Split ``total`` samples over disciplines: ``uniform``, or ``error``-proportional to the last
    diagnosis' error rates (uniform when there is none). Largest remainder, so the parts add to total."""
    names = sorted(set(disciplines))
    if mode not in ("uniform", "error"):
        raise UsageError(f"synth.budget = {mode!r} is not a budget mode", "use 'uniform' or 'error'")
    if not names:
        return {}
    weights = {d: 1.0 for d in names}
    if mode == "error" and error_rates:
        rated = {d: max(0.0, float(error_rates.get(d, 0.0))) for d in names}
        if sum(rated.values()) > 0:
            weights = rated
    whole = sum(weights.values())
    shares = {d: max(0, total) * weights[d] / whole for d in names}
    out = {d: int(shares[d]) for d in names}
    left = max(0, total) - sum(out.values())
    for d in sorted(names, key=lambda d: (-(shares[d] - out[d]), -weights[d], d))[:left]:
        out[d] += 1
    return out
