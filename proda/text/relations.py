"""How each relation of ``records.RELATIONS`` is said in English — the one table that bench, synth
and the debugger phrase statements, questions, inversions and contrasts from."""

from __future__ import annotations

from typing import NamedTuple


class Phrasing(NamedTuple):
    phrase: str        # "X causes Y"
    verb: str          # base verb for "What does X ...?" ("" when there is none)
    inverse: str       # a false inverse phrase ("X is caused by Y" read the other way)
    swap_false: bool   # swapping subject and object makes the statement false


PHRASINGS: dict[str, Phrasing] = {
    "causes": Phrasing("causes", "cause", "is caused by", True),
    "is_a": Phrasing("is a kind of", "", "is a broader category than", True),
    "part_of": Phrasing("is part of", "", "contains", True),
    "requires": Phrasing("requires", "require", "is required by", True),
    "increases": Phrasing("increases", "increase", "decreases", True),
    "decreases": Phrasing("decreases", "decrease", "increases", True),
    "defined_as": Phrasing("is defined as", "", "is not defined as", False),
    "enables": Phrasing("enables", "enable", "prevents", True),
    "prevents": Phrasing("prevents", "prevent", "enables", True),
    "precedes": Phrasing("precedes", "precede", "follows", True),
    "produces": Phrasing("produces", "produce", "is produced by", True),
    "consists_of": Phrasing("consists of", "consist of", "is part of", True),
    "related_to": Phrasing("is related to", "", "is unrelated to", False),
}

# Object questions for relations without a usable base verb.
OBJECT_QUESTIONS = {"is_a": "What kind of thing is {s}?", "part_of": "What is {s} a part of?",
                    "defined_as": "How is {s} defined?", "related_to": "What is {s} related to?"}
AMBIGUOUS = frozenset({"defined_as", "related_to"})  # their object questions have many right answers

# The opposite relation, where there is one (increases <-> decreases, enables <-> prevents).
ANTONYM = {"increases": "decreases", "decreases": "increases", "enables": "prevents", "prevents": "enables"}
# Relations whose direction is the fact: swapping subject and object makes them false.
SWAP = frozenset(r for r, p in PHRASINGS.items() if p.swap_false and r not in ANTONYM)
# Wrong relation phrases offered against the true one in a relation question.
CONTRAST = {
    "increases": ["decreases", "has no effect on"], "decreases": ["increases", "has no effect on"],
    "causes": ["prevents", "is unrelated to"], "prevents": ["causes", "is unrelated to"],
    "enables": ["prevents", "is unrelated to"], "precedes": ["follows", "is unrelated to"],
    "produces": ["consumes", "is unrelated to"], "requires": ["is independent of", "prevents"],
}


def phrasing(relation: str) -> Phrasing:
    return PHRASINGS.get(relation, Phrasing(relation.replace("_", " "), "", "", False))


def phrase(relation: str) -> str:
    return phrasing(relation).phrase


def object_question(relation: str, subject: str) -> str | None:
    """"What does X cause?" / "What kind of thing is X?"; None when the relation has neither."""
    if relation in OBJECT_QUESTIONS:
        return OBJECT_QUESTIONS[relation].format(s=subject)
    verb = phrasing(relation).verb
    return f"What does {subject} {verb}?" if verb else None


# Other ways to say a relation, "{s}"/"{o}" the subject and object: the debugger's paraphrase lessons
# state one fact in several of them, so a model sees the fact apart from one fixed wording.
PARAPHRASES: dict[str, tuple[str, ...]] = {
    "causes": ("{s} leads to {o}", "{s} results in {o}", "{o} comes about because of {s}", "{s} brings about {o}"),
    "increases": ("{s} raises {o}", "{s} makes {o} larger", "more {s} means more {o}", "{o} goes up with {s}"),
    "decreases": ("{s} lowers {o}", "{s} reduces {o}", "more {s} means less {o}", "{o} goes down with {s}"),
    "enables": ("{s} makes {o} possible", "{s} allows {o}", "{o} is possible because of {s}"),
    "prevents": ("{s} stops {o}", "{s} blocks {o}", "{o} cannot happen because of {s}"),
    "produces": ("{s} gives rise to {o}", "{s} yields {o}", "{o} is made by {s}", "{o} comes from {s}"),
    "requires": ("{s} needs {o}", "{s} depends on {o}", "without {o} there is no {s}"),
    "precedes": ("{s} comes before {o}", "{o} follows {s}", "first {s}, then {o}"),
    "is_a": ("{s} is a type of {o}", "{s} belongs to the class of {o}", "one kind of {o} is {s}"),
    "part_of": ("{s} is a component of {o}", "{o} includes {s}", "{s} belongs to {o}"),
    "consists_of": ("{s} is made up of {o}", "{o} is a component of {s}", "{s} includes {o}"),
    "defined_as": ("{s} means {o}", "{s} refers to {o}"),
    "related_to": ("{s} is connected with {o}", "{s} and {o} go together"),
}


def paraphrases(relation: str, subject: str, obj: str) -> list[str]:
    """The statement in the wordings of :data:`PARAPHRASES` (none for an unknown relation)."""
    return [p.format(s=subject, o=obj) for p in PARAPHRASES.get(relation, ())]


# --- saying the opposite (bench inversion distractors) ------------------------------------------
# Each relation's surface verbs, every tense and number, with the verb of its antonym relation in
# the same form: "raises" -> "lowers", "led to" -> "blocked". Where English allows, the opposite has
# the length of the original ("causes" -> "blocks", "reduces" -> "raises"), so that an inverted
# sentence is not told apart by being longer. An inversion replaces the one word
# group and keeps the sentence grammatical; it never adds "not".
_OPPOSITE_VERBS = {
    "increases": [
        ("increases", "decreases"), ("increase", "decrease"), ("increased", "decreased"),
        ("increasing", "decreasing"), ("raises", "lowers"), ("raise", "lower"), ("raised", "lowered"),
        ("boosts", "lowers"), ("boosted", "lowered"), ("enhances", "reduces"), ("enhance", "reduce"),
        ("enhanced", "reduced"), ("strengthens", "weakens"), ("strengthen", "weaken"),
        ("strengthened", "weakened"), ("stimulates", "suppresses"), ("stimulate", "suppress"),
        ("stimulated", "suppressed"), ("promotes", "inhibits"), ("promote", "inhibit"), ("promoted", "inhibited"),
        ("elevates", "lowers"), ("elevated", "lowered"), ("amplifies", "dampens"), ("amplify", "dampen"),
        ("amplified", "dampened"), ("speeds up", "slows down"), ("speed up", "slow down"),
        ("sped up", "slowed down"), ("accelerates", "slows"), ("accelerate", "slow"), ("accelerated", "slowed"),
    ],
    "decreases": [
        ("decreases", "increases"), ("decrease", "increase"), ("decreased", "increased"),
        ("decreasing", "increasing"), ("reduces", "raises"), ("reduce", "raise"), ("reduced", "raised"),
        ("lowers", "raises"), ("lowered", "raised"), ("diminishes", "increases"), ("diminish", "increase"),
        ("diminished", "increased"), ("weakens", "strengthens"), ("weaken", "strengthen"),
        ("weakened", "strengthened"), ("inhibits", "promotes"), ("inhibit", "promote"),
        ("inhibited", "promoted"), ("suppresses", "stimulates"), ("suppress", "stimulate"),
        ("suppressed", "stimulated"), ("slows down", "speeds up"), ("slow down", "speed up"),
        ("slowed down", "sped up"), ("slows", "accelerates"), ("slowed", "accelerated"),
        ("lessens", "increases"), ("lessen", "increase"), ("lessened", "increased"),
        ("depletes", "replenishes"), ("deplete", "replenish"), ("depleted", "replenished"),
    ],
    "causes": [
        ("causes", "blocks"), ("cause", "block"), ("caused", "blocked"), ("leads to", "prevents"),
        ("lead to", "prevent"), ("led to", "blocked"), ("results in", "prevents"), ("result in", "prevent"),
        ("resulted in", "prevented"), ("triggers", "prevents"), ("trigger", "prevent"),
        ("triggered", "prevented"), ("induces", "blocks"), ("induce", "block"), ("induced", "blocked"),
        ("gives rise to", "prevents"), ("give rise to", "prevent"), ("gave rise to", "prevented"),
        ("brings about", "prevents"), ("bring about", "prevent"), ("brought about", "prevented"),
    ],
    "prevents": [
        ("prevents", "enables"), ("prevent", "enable"), ("prevented", "enabled"), ("blocks", "enables"),
        ("block", "enable"), ("blocked", "enabled"), ("hinders", "facilitates"), ("hinder", "facilitate"),
        ("hindered", "facilitated"), ("impedes", "facilitates"), ("impede", "facilitate"),
        ("impeded", "facilitated"),
    ],
    "enables": [
        ("enables", "blocks"), ("enable", "block"), ("enabled", "blocked"), ("facilitates", "hinders"),
        ("facilitate", "hinder"), ("facilitated", "hindered"),
    ],
    "precedes": [
        ("precedes", "follows"), ("precede", "follow"), ("preceded", "followed"), ("follows", "precedes"),
        ("follow", "precede"), ("followed", "preceded"), ("before", "after"), ("after", "before"),
    ],
    "produces": [
        ("produces", "consumes"), ("produce", "consume"), ("produced", "consumed"), ("releases", "absorbs"),
        ("release", "absorb"), ("released", "absorbed"), ("generates", "consumes"), ("generate", "consume"),
        ("generated", "consumed"), ("emits", "absorbs"), ("emit", "absorb"), ("emitted", "absorbed"),
        ("gives off", "takes up"), ("give off", "take up"), ("gave off", "took up"),
        ("secretes", "absorbs"), ("secrete", "absorb"), ("secreted", "absorbed"),
    ],
}
OPPOSITE_VERBS: dict[str, dict[str, str]] = {r: dict(pairs) for r, pairs in _OPPOSITE_VERBS.items()}

# Direction and polarity words whose opposite states the reverse relation in the same grammar
# (used when no triple of the sentence has an opposite verb).
_POLARITY = [
    ("higher", "lower"), ("greater", "smaller"), ("larger", "smaller"), ("faster", "slower"),
    ("stronger", "weaker"), ("rises", "falls"), ("rise", "fall"), ("rose", "fell"), ("risen", "fallen"),
    ("rising", "falling"), ("gains", "loses"), ("gain", "lose"), ("gained", "lost"), ("above", "below"),
    ("maximum", "minimum"), ("positive", "negative"), ("expands", "contracts"), ("expand", "contract"),
    ("expanded", "contracted"), ("attracts", "repels"), ("attract", "repel"), ("attracted", "repelled"),
    ("heats", "cools"), ("warms", "cools"), ("absorbs", "releases"), ("absorb", "release"),
    ("absorbed", "released"), ("earlier", "later"), ("inside", "outside"), ("increases", "decreases"),
    ("increase", "decrease"), ("increased", "decreased"), ("increasing", "decreasing"), ("more", "less"), ("fewer", "more"),
    ("stable", "unstable"), ("easier", "harder"), ("warmer", "cooler"), ("hotter", "colder"),
    ("longer", "shorter"), ("wider", "narrower"), ("heavier", "lighter"), ("denser", "less dense"),
]
POLARITY_PAIRS: tuple[tuple[str, str], ...] = tuple(_POLARITY)  # (rising, falling) but ("fewer", "more")
POLARITY: dict[str, str] = {**dict(_POLARITY), **{b: a for a, b in _POLARITY if " " not in b}}
# Words that are also common nouns ("a release", "the cause"): flipped only where a verb can stand,
# never right after a determiner or preposition. increase/decrease, rise/fall read well as nouns.
VERB_ONLY = frozenset({"cause", "causes", "release", "releases", "produce", "trigger", "triggers", "boost",
                       "boosts", "block", "blocks", "result in", "lead to", "follow", "follows", "gain",
                       "gains", "promote", "emit", "secrete", "generate"})
