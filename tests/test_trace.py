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
