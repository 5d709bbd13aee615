"""The dev/holdout split: by chain group, so no sentence is in both splits."""

from __future__ import annotations

import msgspec

from proda.bench.split import (all_sentences, assign, by_discipline, chain_sentences, components, disciplines, groups,
                               joined, place, sentence_groups, sentence_key, shared_sentences, sides, split_texts)
from proda.records import Chain, Item, Option, Span, Step, make


def chain(doc: str, steps: list[str], discipline: str = "physics", start: int = 0) -> Chain:
    return make(Chain, chunk=f"{doc}-{steps[0][:5]}", doc=doc, discipline=discipline, process="p",
                preconditions=[], steps=[Step(text=t, span=Span(start=start, end=start + len(t))) for t in steps])


def docs(n: int, discipline: str = "physics") -> dict[str, tuple[str, str]]:
    return {f"{discipline}{i}": (discipline, f"{discipline}/doc{i}.md") for i in range(n)}


def test_chains_sharing_a_sentence_are_one_group_across_documents():
    documents = docs(4)
    chains = [chain("physics0", ["Heat flows.", "The bar warms."]),
              chain("physics1", ["THE BAR WARMS!", "It expands."]),  # shared with physics0, as normalised
              chain("physics2", ["It expands.", "Stress builds."]),  # with physics1: all three together
              chain("physics3", ["Light bends.", "A rainbow forms."])]
    of = groups(chains, documents)
    assert of[chains[0].key] == of[chains[1].key] == of[chains[2].key] == ("physics", "physics/doc0.md", 0)
    assert of[chains[3].key] == ("physics", "physics/doc3.md", 0)


def test_sentences_keyed_once_give_the_same_groups_and_index():
    """The stage keys every chain's sentences once (all_sentences) for both the groups and the
    sentence index; the result is what each function computes on its own."""
    documents = docs(3)
    chains = [chain("physics0", ["Heat flows.", "The bar warms."]), chain("physics1", ["THE BAR WARMS!", "It expands."]),
              chain("physics2", ["Light bends.", "  A   rainbow -- forms "])]
    sentences = all_sentences(chains)
    assert sentences == {c.key: chain_sentences(c) for c in chains}
    assert sentences[chains[2].key] == {"light bends", "a rainbow forms"}
    of = groups(chains, documents)
    assert groups(chains, documents, sentences) == of
    assert sentence_groups(of, chains, sentences) == sentence_groups(of, chains)
    assert sentence_key("  Ünï—code  ... 2 ") == "n code 2" and sentence_key("!!") == ""


def test_a_documents_chains_sharing_no_sentence_are_groups_of_their_own_named_in_order():
    documents = docs(1)
    first = chain("physics0", ["Heat flows.", "The bar warms."], start=0)
    linked = chain("physics0", ["The bar warms.", "It expands."], start=40)  # the chunk overlap: same group
    apart = chain("physics0", ["Light bends.", "A rainbow forms."], start=900)
    of = groups([apart, linked, first], documents)
    assert of[first.key] == of[linked.key] == ("physics", "physics/doc0.md", 0)
    assert of[apart.key] == ("physics", "physics/doc0.md", 1)
    assert [len(g) for g in components([first, linked, apart])] == [2, 1]


def test_a_document_of_several_groups_splits_them_itself_both_ways():
    for counts in ([1, 1], [9, 1], [3, 3, 3], [5, 1, 1, 1, 1, 1]):
        got = sides(counts, 0.5, "doc")
        assert set(got) == {"dev", "holdout"} and got == sides(counts, 0.5, "doc")
    assert set(sides([1, 1], 0.1, "doc")) == set(sides([20, 1], 0.02, "doc")) == {"dev", "holdout"}  # small ratios
    got = sides([4, 3, 2, 1], 0.5, "doc")
    assert sum(n for n, s in zip([4, 3, 2, 1], got) if s == "holdout") == 5


def names(n: int, discipline: str = "physics") -> list[tuple[str, str, int]]:
    return [(discipline, f"{discipline}/doc{i}.md", 0) for i in range(n)]


def test_groups_share_items_by_the_ratio_and_a_discipline_has_both_splits():
    g = names(6)
    spread = {x: {"physics"} for x in g}
    for counts in ({g[1]: 1, g[4]: 30}, {g[0]: 30, g[1]: 10, g[2]: 1}, {x: 5 for x in g}):
        splits = assign(spread, "physics", counts, 0.5)
        assert {splits[x] for x in counts} == {"dev", "holdout"}
        assert set(splits) == set(g)
    counts = {g[0]: 30, g[1]: 20, g[2]: 10, g[3]: 10}
    splits = assign(spread, "physics", counts, 0.5)
    assert sum(n for x, n in counts.items() if splits[x] == "holdout") in (30, 40)
    # a share of about ``ratio`` of many groups' items; the same answer every time
    many = names(400)
    counts = {x: 1 + i % 7 for i, x in enumerate(many)}
    splits = assign({x: {"physics"} for x in many}, "physics", counts, 0.3)
    share = sum(n for x, n in counts.items() if splits[x] == "holdout") / sum(counts.values())
    assert 0.29 < share < 0.31 and splits == assign({x: {"physics"} for x in many}, "physics", counts, 0.3)


def test_groups_a_document_placed_keep_their_split_and_count_towards_the_shares():
    g = names(4)
    spread = {x: {"physics"} for x in g}
    counts = {g[0]: 10, g[1]: 10, g[2]: 10, g[3]: 10}
    splits = assign(spread, "physics", counts, 0.5, placed={g[0]: "holdout", g[1]: "holdout"})
    assert splits[g[0]] == splits[g[1]] == "holdout" and splits[g[2]] == splits[g[3]] == "dev"


def test_the_split_depends_on_paths_and_places_not_contents():
    documents = docs(5)
    before = groups([chain("physics0", ["A."])], documents)
    edited = {"physics0-edited" if k == "physics0" else k: v for k, v in documents.items()}  # new content key
    after = groups([chain("physics0-edited", ["B."])], edited)
    assert list(before.values()) == list(after.values())
    spread = {x: {"physics"} for x in before.values()}
    assert assign(spread, "physics", {}, 0.5) == assign({x: {"physics"} for x in after.values()}, "physics", {}, 0.5)


def test_a_group_spanning_disciplines_is_placed_alike_by_each_shard():
    documents = {**docs(3, "physics"), **docs(3, "chemistry")}
    chains = [chain("physics0", ["Energy is conserved."]), chain("chemistry2", ["Energy is conserved."], "chemistry")]
    of = groups(chains, documents)
    group = of[chains[0].key]
    assert of[chains[1].key] == group
    spread = disciplines(of, chains)
    assert spread[group] == {"physics", "chemistry"}
    assert assign(spread, "physics", {group: 3}, 0.5, placed={group: "dev"})[group] == \
        assign(spread, "chemistry", {}, 0.5)[group]


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


def _item(ch: Chain, *texts: str) -> Item:
    return make(Item, discipline=ch.discipline, chain=ch.key, doc=ch.doc, statements=[], concepts=[],
                variant="conclusion", split="", stem="?", answer=0,
                options=[Option(text=t, operator="", reason="") for t in texts])


def test_options_join_the_groups_whose_sentences_they_are_or_share():
    documents = {**docs(3), **docs(1, "chemistry")}
    rises = chain("physics0", ["Demand grows.", "The price rises toward equilibrium."])
    falls = chain("physics1", ["Supply grows.", "The price falls toward equilibrium."])
    other = chain("physics2", ["Light bends.", "A rainbow forms."])
    far = chain("chemistry0", ["Acid is added.", "The pH falls."], "chemistry")
    chains = [rises, falls, other, far]
    of = groups(chains, documents)
    spread, stated = disciplines(of, chains), sentence_groups(of, chains)
    assert len({of[c.key] for c in chains}) == 4
    # an inverted option that is another group's sentence, compared as the splits compare it (the Δ)
    items = [_item(rises, "The price rises toward equilibrium.", "The price falls toward equilibrium (Δ)."),
             _item(other, "A rainbow forms.", "A halo forms."), _item(falls, "The price falls.", "A halo forms!")]
    root, crossing = joined(items, of, stated, spread, "physics")
    assert root[of[rises.key]] == root[of[falls.key]] == root[of[other.key]]  # the halo: a shared distractor
    assert not crossing
    splits = assign({root.get(g, g): spread[g] for g in spread}, "physics", {root[of[rises.key]]: 3}, 0.5)
    assert splits[root[of[rises.key]]] in ("dev", "holdout")
    # an option that is a sentence of another discipline's chains cannot be joined from this shard: dropped
    item = _item(other, "A rainbow forms.", "The pH falls.")
    root, crossing = joined([item], of, stated, spread, "physics")
    assert crossing == {item.key} and root.get(of[other.key], of[other.key]) == of[other.key]


def test_place_keeps_a_joined_group_on_one_side_and_the_first_documents_word():
    documents = docs(2)
    a1 = chain("physics0", ["Heat flows.", "The bar warms."], start=0)
    a2 = chain("physics0", ["Light bends.", "A rainbow forms."], start=500)
    b1 = chain("physics1", ["Ice melts.", "The lake rises."], start=0)
    b2 = chain("physics1", ["Wind blows.", "Waves grow."], start=500)
    chains = [a1, a2, b1, b2]
    of = groups(chains, documents)
    spread, stated = disciplines(of, chains), sentence_groups(of, chains)

    def item(ch: Chain, split: str, *texts: str) -> Item:
        return msgspec.structs.replace(_item(ch, *texts), split=split)

    # each document split its two groups itself; b1's distractor is a2's sentence: a2 and b1 join
    records = [item(a1, "dev", "The bar warms.", "The bar cools."), item(a2, "holdout", "A rainbow forms.", "A halo forms."),
               item(b1, "dev", "The lake rises.", "A rainbow forms."), item(b2, "holdout", "Waves grow.", "Waves shrink.")]
    placed = {r.chain: r.split for r in place(records, of, spread, documents, stated, "physics", 0.5)}
    assert placed[a2.key] == placed[b1.key] == "holdout"  # physics0 decided first (by path)
    assert placed[a1.key] == "dev"
    texts = {s: {sentence for r in place(records, of, spread, documents, stated, "physics", 0.5) if r.split == s
                 for sentence in [o.text for o in r.options]} for s in ("dev", "holdout")}
    assert shared_sentences(texts) == 0


def test_place_over_a_shards_own_groups_is_place_over_every_group():
    """A shard's place() given the groups with a chain in its discipline (what the stage passes, so
    its work grows with its own groups) returns what it returns looking at every group: with a join,
    a group spanning disciplines, a crossing option, and groups of other disciplines around."""
    documents = {**docs(3), **docs(3, "chemistry"), **docs(2, "biology")}
    p0 = chain("physics0", ["Heat flows.", "The bar warms."])
    p1 = chain("physics1", ["Light bends.", "A rainbow forms."])
    p2 = chain("physics2", ["Energy is conserved.", "Work is done."])
    c0 = chain("chemistry0", ["Energy is conserved.", "Bonds break."], "chemistry")  # spans with p2
    c1 = chain("chemistry1", ["Acid is added.", "The pH falls."], "chemistry")
    b0 = chain("biology0", ["Cells divide.", "Tissue grows."], "biology")
    chains = [p0, p1, p2, c0, c1, b0]
    of = groups(chains, documents)
    spread, stated = disciplines(of, chains), sentence_groups(of, chains)
    mine = by_discipline(spread)
    assert set(mine) == {"physics", "chemistry", "biology"} and of[p2.key] in mine["chemistry"]
    records = {"physics": [_item(p0, "The bar warms.", "A rainbow forms."), _item(p1, "A rainbow forms.", "A halo forms."),
                           _item(p2, "Work is done.", "The pH falls.")],  # joins p0/p1; crosses to chemistry
               "chemistry": [_item(c0, "Bonds break.", "Bonds form."), _item(c1, "The pH falls.", "The pH rises.")],
               "biology": [_item(b0, "Tissue grows.", "Tissue shrinks.")]}
    for d, rs in records.items():
        everything = place(rs, of, spread, documents, stated, d, 0.5)
        assert place(rs, of, spread, documents, stated, d, 0.5, mine[d]) == everything, d
        assert {r.split for r in everything} <= {"dev", "holdout"}
    assert any(getattr(r, "reason", "") == "shared_sentence"
               for r in place(records["physics"], of, spread, documents, stated, "physics", 0.5, mine["physics"]))
