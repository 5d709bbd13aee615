"""What an L3 chain, an L2 statement and an L1 concept are: the one set of definitions that the
heuristic extractor implements and the LLM prompts (``proda/prompts/extract_*.v2.txt``) quote.

Changing a definition here changes what both extractors are told or do: bump the extract stage
version and write new prompt files (a used prompt file is never edited in place).
"""

from __future__ import annotations

CHAIN = (
    "A reasoning chain is a run of at least two steps where each step follows from the one before: a "
    "cause and its effect, a premise and what is inferred from it, the stages of a mechanism, or the "
    "steps of a procedure in order. The text marks the link: a connective (because, therefore, thus, so, "
    "as a result, consequently, which means, this leads to, in this case, if ... then, then, finally), "
    "a causal or temporal verb, or the next step taking up what the previous one ended with. A list of "
    "definitions, facts side by side, an example after a claim, or a contrast is not a chain. Each step "
    "is a sentence or clause of the text; the last step is the conclusion.")

PRECONDITION = (
    "Preconditions are premises the text states before the process: what is supposed, assumed or given "
    "(\"Suppose ...\", \"Consider ...\", \"If the rate were ...\"). A precondition is never one of the steps; "
    "a chain without stated premises has none.")

STATEMENT = (
    "A statement is a typed triple (subject, relation, object) that its sentence states, not merely "
    "suggests. Subject and object are complete noun phrases as worded in the text (no verbs, no dangling "
    "words, pronouns replaced by what they refer to); the relation has a direction: the subject acts on or "
    "belongs to the object. What fits none of the relations is left out rather than forced.")

# relation -> what "subject RELATION object" asserts (direction included)
RELATION_MEANINGS: dict[str, str] = {
    "causes": "the subject brings about the object (X causes, leads to, results in Y; Y is due to X)",
    "is_a": "the subject is a kind or an instance of the object (X is a Y; Ys such as X)",
    "part_of": "the subject is a part or member of the object",
    "requires": "the subject needs or depends on the object",
    "increases": "the subject raises the object, or the object rises with the subject",
    "decreases": "the subject lowers the object, or the object falls as the subject rises",
    "defined_as": "the subject (a term) means the object (its description)",
    "enables": "the subject makes the object possible",
    "prevents": "the subject stops or blocks the object",
    "precedes": "the subject comes before the object in time or in a sequence",
    "produces": "the subject makes, releases or yields the object",
    "consists_of": "the subject is made of or contains the object",
    "related_to": "a link the text states that none of the others fits (avoid: prefer no statement)",
}

DEFINITION = (
    "A concept's definition is text that defines it: \"X is a/an ...\", \"X refers to ...\", \"X is defined "
    "as ...\", \"... is called X\", \"... known as X\", an appositive (\"X, a ... that ...,\"), a glossary "
    "line (\"X: ...\"). A sentence that only mentions the concept is no definition: then it has none. "
    "Its category comes from the head noun of the defining phrase.")

# category -> what belongs to it (the head nouns that select it are in canon.py)
CATEGORIES: dict[str, str] = {
    "process": "a series of changes or actions (photosynthesis, diffusion, inflation)",
    "event": "something that happened at a time (a war, a treaty, an election)",
    "quantity": "something measured or counted (rate, mass, price, lag, probability)",
    "property": "a characteristic of something (solubility, stability, behaviour)",
    "structure": "a physical or organised thing made of parts (cell, organ, star, molecule, program module)",
    "organism": "a living thing or kind of living thing (bacterium, fungus, plant, species)",
    "substance": "a kind of matter (water, acid, toxin, hormone, alloy)",
    "law/principle": "a law, theory, model, rule or equation",
    "person/group": "people, roles, groups and institutions (voter, party, society, court)",
    "method": "a way of doing something (technique, test, algorithm, procedure)",
    "idea": "an abstract notion (belief, argument, fallacy, right, value, religion)",
    "entity": "anything else",
}


def relation_lines() -> str:
    """The relation vocabulary as prompt lines: ``- name: meaning``."""
    return "\n".join(f"- {name}: {meaning}" for name, meaning in RELATION_MEANINGS.items())


def category_lines() -> str:
    return "\n".join(f"- {name}: {meaning}" for name, meaning in CATEGORIES.items())
