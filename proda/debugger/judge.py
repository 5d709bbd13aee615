"""The paper's diagnosis, as an option (``debug.diagnosis = "llm"``): an LLM judge labels each
failure from the item, the model's wrong choice, the item's numbered L1/L2 nodes and the probe
results, with the model's probe base rate for calibration. Calls go through the LLM cache; a reply
is validated (label among the three, node numbers in range) and its reason kept as evidence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from ..errors import UsageError
from ..records import Diagnosis, make
from .diagnosis import LABELS

if TYPE_CHECKING:
    from ..project import Project


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    nodes: list[int] = msgspec.field(default_factory=list)
    reason: str = ""


def _prompt_values(plan, chosen: int, base: float) -> tuple[dict[str, Any], list[str]]:
    item = plan.item
    nodes = [(s.key, f"{s.subject} {s.relation.replace('_', ' ')} {s.object}") for s in plan.statements]
    nodes += [(c.key, f"{c.name}: {c.definition}") for c in plan.concepts]
    letters = "ABCDEFGH"
    values = {
        "discipline": item.discipline.replace("_", " "), "stem": item.stem,
        "options": "\n".join(f"{letters[i]}. {o.text}" for i, o in enumerate(item.options)),
        "answer": letters[item.answer], "chosen": letters[chosen],
        "nodes": "\n".join(f"{n}. {text}" for n, (_, text) in enumerate(nodes, 1)) or "(none)",
        "base_rate": f"{base:.2f}",
        "probes": "\n".join(f"- {p.stem} -> {'right' if ok else 'wrong'}"
                            for p, ok in zip(plan.probes, plan.correct or [])) or "(no valid probes)",
    }
    return values, [k for k, _ in nodes]


def judge(project: "Project", checkpoint: str, failures: list[tuple[Any, int]], base: float) -> list[Diagnosis]:
    """Diagnoses of ``failures`` ((plan, chosen option) pairs) by the configured LLM."""
    from ..engine.catalog import open_catalog
    from ..llm import get_llm, map_concurrent, params_from_config
    from ..llm.cache import CachedLLM, LLMCache
    from ..llm.prompts import render

    cfg = project.config.llm
    if cfg.backend == "heuristic":
        raise UsageError("debug.diagnosis = 'llm' needs an LLM, but llm.backend is 'heuristic'",
                         "set llm.backend (openai, vllm or transformers), or debug.diagnosis = 'probes'")
    params = params_from_config(cfg)
    with open_catalog(project) as cat:
        llm = CachedLLM(get_llm(cfg), LLMCache(cat.con))
        try:
            def one(pair):
                plan, chosen = pair
                values, keys = _prompt_values(plan, chosen, base)
                messages, template = render("diagnose_failure.v1", **values)
                verdict = llm.complete_json(messages, Verdict, params=params, template=template,
                                            what=f"diagnosis of item {plan.item.key[:12]}")
                return _diagnosis(plan, chosen, checkpoint, verdict, keys, base, llm.model)

            return map_concurrent(one, failures, cfg.concurrency)
        finally:
            llm.close()


def _diagnosis(plan, chosen: int, checkpoint: str, verdict: Verdict, keys: list[str], base: float,
               model: str) -> Diagnosis:
    item = plan.item
    label = verdict.label if verdict.label in LABELS else "undetermined"
    nodes = [keys[n - 1] for n in verdict.nodes if 1 <= n <= len(keys)]
    if label == "reasoning_deficit" or not nodes:
        nodes = list(dict.fromkeys([*item.statements] if label == "reasoning_deficit"
                                   else [*item.statements, *item.concepts]))
    n, k = len(plan.probes), sum(plan.correct or [])
    evidence = {"method": "llm", "model": model, "reason": verdict.reason, "reply_label": verdict.label,
                "probes": n, "correct": k, "base_rate": round(base, 4)}
    return make(Diagnosis, checkpoint=checkpoint, item=item.key, discipline=item.discipline, label=label,
                chain=item.chain, nodes=nodes, confused_with=item.options[chosen].text, evidence=evidence)
