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


def test_groups_share_items_by_the_ratio_and_a_discipline_has_both_splits():
    documents = docs(6)
    of = groups([], documents)
    g = [("physics", f"physics/doc{i}.md") for i in range(6)]
    for counts in ({g[1]: 1, g[4]: 30}, {g[0]: 30, g[1]: 10, g[2]: 1}, {x: 5 for x in g}):
        splits = assign(of, documents, "physics", counts, 0.5)
        assert {splits[x] for x in counts} == {"dev", "holdout"}
        assert set(splits) == set(of.values())
    splits = assign(of, documents, "physics", {g[0]: 30, g[1]: 20, g[2]: 10, g[3]: 10}, 0.5)
    assert sum(n for x, n in {g[0]: 30, g[1]: 20, g[2]: 10, g[3]: 10}.items() if splits[x] == "holdout") in (30, 40)
    # a share of about ``ratio`` of many groups' items; the same answer every time
    many = docs(400)
    of = groups([], many)
    counts = {x: 1 + i % 7 for i, x in enumerate(sorted(set(of.values())))}
    splits = assign(of, many, "physics", counts, 0.3)
    share = sum(n for x, n in counts.items() if splits[x] == "holdout") / sum(counts.values())
    assert 0.29 < share < 0.31 and splits == assign(of, many, "physics", counts, 0.3)


def test_the_split_depends_on_paths_not_contents():
    documents = docs(5)
    before = assign(groups([chain("physics0", ["A."])], documents), documents, "physics", {}, 0.5)
    edited = {"physics0-edited" if k == "physics0" else k: v for k, v in documents.items()}  # new content key
    after = assign(groups([chain("physics0-edited", ["B."])], edited), edited, "physics", {}, 0.5)
    assert before == after


def test_a_group_spanning_disciplines_is_placed_alike_by_each_shard():
    documents = {**docs(3, "physics"), **docs(3, "chemistry")}
    of = groups([chain("physics0", ["Energy is conserved."]), chain("chemistry2", ["Energy is conserved."])],
                documents)
    group = of["physics0"]
    assert of["chemistry2"] == group
    assert assign(of, documents, "physics", {group: 3}, 0.5)[group] == assign(of, documents, "chemistry", {}, 0.5)[group]


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
