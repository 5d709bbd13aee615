"""proda show's trace: a chain's document span covers every step, whatever order the chain states them in."""

from __future__ import annotations

from proda.records import Chain, Chunk, Document, Span, Step, make
from proda.report.trace import trace


def test_a_chain_stated_out_of_text_order_shows_the_span_of_all_its_steps():
    text = "Uranus is tilted by 98 degrees. Its poles get 42 years of daylight, because of that tilt."
    doc = make(Document, discipline="astronomy", path="astronomy/seasons.md", title="Seasons", text=text,
               source_hash="0", words=17)
    chunk = make(Chunk, doc=doc.key, discipline="astronomy", index=0, span=Span(start=0, end=len(text)), text=text)
    first, second = text.index("Its poles"), text.index("Uranus")
    chain = make(Chain, chunk=chunk.key, doc=doc.key, discipline="astronomy", process="tilt", preconditions=[],
                 steps=[Step(text="Its poles get 42 years of daylight", span=Span(start=first, end=first + 34)),
                        Step(text="Uranus is tilted by 98 degrees.", span=Span(start=second, end=second + 31))])
    shown = trace({r.key: r for r in (doc, chunk, chain)}, chain)[-1]
    assert shown["kind"] == "document"
    assert f"chars 0-{first + 34}:" in shown["text"] and shown["text"].endswith(text[:first + 34])


def test_a_patch_sample_whose_statements_left_the_build_says_so():
    """A replay or patch sample written from statements an edit has since removed traced to itself
    alone, exit 0, as if that were all; the trace now says what is missing and where to fix it."""
    from proda.records import Sample

    gone = make(Sample, discipline="economics", format="open", prompt="What is total_price?", response="A word.",
                statements=["f" * 32], concepts=[], origin="replay", source="0001-debug.jsonl")
    shown = trace({gone.key: gone}, gone)
    assert [t["kind"] for t in shown] == ["sample", "note"]
    assert "no longer in the build" in shown[1]["text"] and "specs/patches/0001-debug.jsonl" in shown[1]["text"]
    by_hand = make(Sample, discipline="economics", format="open", prompt="Q?", response="A.", statements=[],
                   concepts=[], origin="patch", source="mine.jsonl")
    assert "written by hand" in trace({by_hand.key: by_hand}, by_hand)[1]["text"]
