"""Canonical concept names, abbreviations and coarse categories (L1), all by hand-written rules.

``canonical("The Enzymes")`` == ``canonical("enzyme")`` == "enzyme": leading articles and
punctuation go, case folds (acronyms and mixed-case symbols such as DNA, pH, CO₂ keep theirs),
the head noun is singularised ("rates of reaction" -> "rate of reaction"). ``abbreviations`` finds
"long form (SHORT)" definitions in text with the Schwartz–Hearst rule (the short form's letters
appear in order in the long form, the first at a word start).
"""

from __future__ import annotations

import functools
import re

from .phrases import DETERMINERS, PREPOSITIONS

_IRREGULAR = {
    "children": "child", "men": "man", "women": "woman", "feet": "foot", "teeth": "tooth", "mice": "mouse",
    "geese": "goose", "criteria": "criterion", "phenomena": "phenomenon", "bacteria": "bacterium",
    "nuclei": "nucleus", "fungi": "fungus", "stimuli": "stimulus", "radii": "radius", "foci": "focus",
    "loci": "locus", "indices": "index", "matrices": "matrix", "vertices": "vertex", "analyses": "analysis",
    "hypotheses": "hypothesis", "theses": "thesis", "crises": "crisis", "axes": "axis", "spectra": "spectrum",
    "strata": "stratum", "larvae": "larva", "algae": "alga", "vertebrae": "vertebra", "taxa": "taxon",
    "mitochondria": "mitochondrion", "ganglia": "ganglion", "quanta": "quantum", "maxima": "maximum",
    "minima": "minimum", "formulae": "formula", "appendices": "appendix", "diagnoses": "diagnosis",
    "syntheses": "synthesis", "emphases": "emphasis", "leaves": "leaf", "lives": "life", "halves": "half",
    "selves": "self", "wolves": "wolf", "shelves": "shelf", "knives": "knife", "wives": "wife",
    "thieves": "thief", "calves": "calf", "gases": "gas", "biases": "bias", "viruses": "virus",
    "buses": "bus", "censuses": "census", "statuses": "status", "apparatuses": "apparatus",
    "atlases": "atlas", "lenses": "lens", "oases": "oasis", "neuroses": "neurosis", "species": "species",
    "series": "series", "means": "means", "news": "news", "heroes": "hero", "potatoes": "potato",
    "tomatoes": "tomato", "volcanoes": "volcano", "echoes": "echo", "vetoes": "veto", "torpedoes": "torpedo",
    "bases": "base", "data": "data", "media": "media", "people": "people", "cacti": "cactus",
    **{w: w for w in "herpes measles mumps rabies diabetes scabies feces caries rickets shingles".split()},
}
_KEEP_S = ("ss", "us", "is", "ics", "ous", "sis", "ys")


def singular(word: str) -> str:
    """The singular of an English noun (lowercase), by rule and a short irregular list."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_S) or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    return word[:-1]


_PUNCT = re.compile(r"[\"“”‘’'`´«»()\[\]{}.,;:!?]+")
_SPACE = re.compile(r"\s+")
_ARTICLES = DETERMINERS | {"a", "an", "the"}
_NUMBERS = frozenset("one two three four five six seven eight nine ten twelve hundred thousand million".split())


def _keeps_case(word: str) -> bool:
    """Acronyms, symbols and single capitals keep their case: DNA, pH, CO₂, T (cell), X (ray)."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) >= 2 and any(c.isupper() for c in letters[1:]) or (
        len(letters) == 1 and word[0].isupper() and word not in {"A", "I"})


@functools.lru_cache(maxsize=65536)
def canonical(surface: str) -> str:
    """The canonical name of a concept surface form ("" when nothing is left)."""
    text = surface.replace("’", "'").replace("‘", "'")
    text = re.sub(r"'s\b", "\u0000", text)  # keep a possessive through the punctuation strip
    text = _PUNCT.sub(" ", text).replace("\u0000", "'s")
    words = [w if _keeps_case(w) else w.lower() for w in _SPACE.split(text.strip()) if w]
    while words and (words[0].lower() in _ARTICLES or words[0].lower() in _NUMBERS or words[0].isdigit()):
        words = words[1:]
    if not words:
        return ""
    head = next((i - 1 for i, w in enumerate(words) if i > 0 and w.lower() in PREPOSITIONS), len(words) - 1)
    word = words[head]
    if _keeps_case(word):
        if len(word) > 2 and word.endswith("s") and word[:-1].isupper():
            words[head] = word[:-1]  # "ATPs" -> "ATP"
    else:
        words[head] = singular(word)
    return " ".join(words)


_SHORT = re.compile(r"\(\s*([A-Za-z][A-Za-z0-9₀-₉+\-]{1,9})\s*\)")


def _long_form(short: str, candidate: str) -> str:
    """Schwartz–Hearst: the shortest tail of ``candidate`` whose letters spell ``short``."""
    s, l = len(short) - 1, len(candidate) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while l >= 0 and (candidate[l].lower() != c or (s == 0 and l > 0 and candidate[l - 1].isalnum())):
            l -= 1
        if l < 0:
            return ""
        l -= 1
        s -= 1
    start = candidate.rfind(" ", 0, l + 1) + 1
    return candidate[start:].strip()


def abbreviations(text: str) -> dict[str, str]:
    """``{canonical short form: canonical long form}`` for each "long form (SHORT)" in ``text``."""
    out: dict[str, str] = {}
    if "(" not in text:
        return out
    for m in _SHORT.finditer(text):
        short = m.group(1)
        if sum(c.isupper() for c in short) < 2 and not (short[0].isupper() and len(short) <= 3):
            continue
        words = text[:m.start()].split()
        window = " ".join(words[-min(len(short) + 5, 2 * len(short)):])
        long = _long_form(short, window)
        if not long or len(long) <= len(short) or len(long.split()) > len(short) + 3:
            continue
        key, value = canonical(short), canonical(long)
        if key and value and key != value:
            out.setdefault(key, value)
    return out


# --- categories --------------------------------------------------------------------------------

_HEADS: dict[str, frozenset[str]] = {k: frozenset(v.split()) for k, v in {
    "law/principle": """law principle theory theorem rule hypothesis equation model postulate axiom
        doctrine paradox effect formula constant criterion""",
    "quantity": """rate velocity speed mass energy temperature pressure concentration force volume density
        acceleration momentum number amount level price cost quantity ratio percentage proportion
        probability mean median variance deviation frequency wavelength charge current voltage distance
        time length size wage income output supply demand gdp revenue profit tax value lag
        weight height width area power work heat entropy enthalpy ph yield count average sum total
        magnitude intensity luminosity radius diameter period angle resistance capacity percentile
        quartile statistic score unemployment inflation""",
    "organism": """organism bacterium virus fungus alga plant animal species microbe microorganism protist
        protozoan parasite pathogen insect mammal bird fish tree yeast mold cyanobacterium archaeon
        eukaryote prokaryote""",
    "substance": """substance compound chemical acid base salt metal element gas liquid solid solution mixture
        alloy mineral toxin hormone drug medication vaccine alkaloid mycotoxin exotoxin nutrient sugar
        glucose water oxygen carbon protein enzyme lipid fat fuel material polymer""",
    "structure": """cell membrane organ tissue molecule atom structure wall layer bond organelle nucleus
        gland bone muscle gene chromosome vessel artery vein neuron receptor ion
        electron proton neutron particle crystal lattice ring chain network circuit
        galaxy star planet moon orbit crust core mantle cloud nebula body brain heart lung kidney
        skin device instrument machine module program statement object variable list string file
        library function iterator record diagram graph plot table chart cerebellum""",
    "event": """war revolution battle election crisis depression treaty act rebellion invasion era
        collapse reform event conflict strike riot movement migration expedition campaign outbreak""",
    "person/group": """people person scientist group class party government court congress worker family
        society community voter citizen nation state country tribe firm company household consumer
        producer colonist settler leader president king queen official union church army elite
        population member individual child parent researcher philosopher scholar priest
        organization organisation institution agency corps alliance""",
    "method": """method technique procedure test exam examination algorithm approach strategy design
        experiment survey analysis calculation measurement treatment therapy diagnosis""",
    "idea": """idea notion concept belief view argument fallacy error value right freedom liberty religion
        philosophy ideology standard norm doctrine claim assumption judgment situation""",
    "process": """process reaction cycle mechanism pathway transport diffusion respiration
        photosynthesis evolution growth decay metabolism circulation inflammation replication
        transcription translation division mitosis meiosis fusion fission erosion trade production
        consumption regulation signaling learning memory socialization development change disease
        vasoconstriction""",
    "property": """property characteristic feature trait quality ability stability solubility
        polarity conductivity elasticity equilibrium balance symmetry behavior behaviour""",
}.items()}
_SUFFIXES = (("tion", "process"), ("sion", "process"), ("ment", "process"), ("ing", "process"),
             ("sis", "process"), ("ity", "property"), ("ness", "property"), ("ance", "property"),
             ("ence", "property"), ("ism", "idea"), ("ist", "person/group"), ("ase", "substance"),
             ("ide", "substance"), ("ogy", "idea"))
_ORDER = ("law/principle", "quantity", "organism", "substance", "structure", "event", "person/group", "method",
          "idea", "process", "property")
_COLLECTIVE = frozenset("set sets group groups collection type kind form class series sort variety".split())


def category(name: str) -> str:
    """A coarse category (``nodes.CATEGORIES``) from the head noun: lists first, then suffixes; "entity"
    otherwise. Called with a definition's defining phrase ("protein that ..." -> its head, "protein")."""
    words = name.split()
    if not words:
        return "entity"
    head_index = next((i - 1 for i, w in enumerate(words) if i > 0 and w in PREPOSITIONS), len(words) - 1)
    if words[head_index].lower() in _COLLECTIVE and head_index + 2 < len(words):
        return category(" ".join(words[head_index + 2:]))  # "set of rules": what the set is made of
    head = singular(words[head_index].lower())
    for label in _ORDER:
        if head in _HEADS[label]:
            return label
    for suffix, label in _SUFFIXES:
        if head.endswith(suffix) and len(head) > len(suffix) + 2:
            return label
    return "entity"
