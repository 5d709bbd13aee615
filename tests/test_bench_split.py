"""The dev/holdout split: by document group, so no sentence is in both splits."""

from __future__ import annotations

from proda.bench.split import assign, groups, shared_sentences, split_texts
from proda.records import Chain, Item, Option, Span, Step, make


def chain(doc: str, steps: list[str], discipline: str = "physics") -> Chain:
    return make(Chain, chunk=f"{doc}-{steps[0][:5]}", doc=doc, discipline=discipline, process="p",
                preconditions=[], steps=[Step(text=t, span=Span(start=0, end=len(t))) for t in steps])


def docs(n: int, discipline: str = "physics") -> dict[str, tuple[str, str]]:
    return {f"{discipline}{i}": (discipline, f"{discipline}/doc{i}.md") for i in range(n)}


def test_documents_sharing_a_sentence_are_one_group():
    documents = docs(4)
    chains = [chain("physics0", ["Heat flows.", "The bar warms."]),
              chain("physics1", ["THE BAR WARMS!", "It expands."]),  # shared with physics0, as normalised
              chain("physics2", ["It expands.", "Stress builds."]),  # with physics1: all three together
              chain("physics3", ["Light bends.", "A rainbow forms."])]
    of = groups(chains, documents)
    assert of["physics0"] == of["physics1"] == of["physics2"] == ("physics", "physics/doc0.md")
    assert of["physics3"] == ("physics", "physics/doc3.md")


def test_groups_with_items_are_dealt_first_so_a_discipline_has_both_splits():
    documents = docs(6)
    of = groups([], documents)
    for with_items in ({("physics", "physics/doc1.md"), ("physics", "physics/doc4.md")},
                       {("physics", f"physics/doc{i}.md") for i in range(6)}):
        splits = assign(of, documents, "physics", with_items, 0.5)
        assert {splits[g] for g in with_items} == {"dev", "holdout"}
        assert set(splits) == set(of.values())
    # a share of about ``ratio`` over many groups; the same answer every time
    many = docs(400)
    of = groups([], many)
    splits = assign(of, many, "physics", set(of.values()), 0.3)
    assert 0.28 < sum(s == "holdout" for s in splits.values()) / len(splits) < 0.32
    assert splits == assign(of, many, "physics", set(of.values()), 0.3)


def test_the_split_depends_on_paths_not_contents():
    documents = docs(5)
    before = assign(groups([chain("physics0", ["A."])], documents), documents, "physics", set(), 0.5)
    edited = {"physics0-edited" if k == "physics0" else k: v for k, v in documents.items()}  # new content key
    after = assign(groups([chain("physics0-edited", ["B."])], edited), edited, "physics", set(), 0.5)
    assert before == after


def test_a_group_spanning_disciplines_is_placed_alike_by_each_shard():
    documents = {**docs(3, "physics"), **docs(3, "chemistry")}
    of = groups([chain("physics0", ["Energy is conserved."]), chain("chemistry2", ["Energy is conserved."])],
                documents)
    group = of["physics0"]
    assert of["chemistry2"] == group
    assert assign(of, documents, "physics", {group}, 0.5)[group] == assign(of, documents, "chemistry", set(), 0.5)[group]


def test_shared_sentences_counts_item_and_chain_text_in_both_splits():
    a, b = chain("d1", ["Heat flows.", "The bar warms."]), chain("d2", ["The bar warms.", "It expands."])

    def item(ch: Chain, split: str, text: str) -> Item:
        return make(Item, discipline="physics", chain=ch.key, doc=ch.doc, statements=[], concepts=[],
                    variant="conclusion", split=split, stem="?", answer=0,
                    options=[Option(text=text, operator="", reason="")])

    chains = {a.key: a, b.key: b}
    assert shared_sentences(split_texts([item(a, "dev", "X."), item(b, "holdout", "Y.")], chains)) == 1
    assert shared_sentences(split_texts([item(a, "dev", "X."), item(b, "dev", "Y.")], chains)) == 0
    assert shared_sentences({"dev": ["One.", "Two"], "holdout": ["two!"]}) == 1
