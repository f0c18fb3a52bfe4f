"""``TuningResult`` as HTML for Jupyter: the headline, where the time went, the best trials."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from . import data as views

if TYPE_CHECKING:
    from ..results._result import TuningResult

#: Trials shown in the notebook table (best first); ``result.trials`` has them all.
TOP_TRIALS = 10


def result_html(result: "TuningResult", top: int = TOP_TRIALS) -> str:
    """An HTML summary of ``result``: everything is escaped, nothing is fetched."""
    src = views.view_input(result)
    counts: dict[str, int] = {}
    for outcome in views.outcomes(src).values():
        kind = views.outcome_kind(outcome)
        counts[kind] = counts.get(kind, 0) + 1
    best = result.best_trial
    rows: list[tuple[str, Any]] = [
        ("experiment", result.experiment),
        ("status", f"{result.status} ({result.stop_reason})"),
        ("trials", ", ".join(f"{n} {kind}" for kind, n in counts.items()) or "none"),
        (f"best {result.metric} ({result.mode})",
         "none" if best is None else f"{best.metric_value:.6g} (trial {best.trial_id})"),
        ("best config", "none" if best is None else ", ".join(f"{k}={v!r}" for k, v in best.config.items())),
        ("wall-clock", f"{result.wallclock:.3g} s"),
        ("decision time", f"{result.decision_time:.3g} s"),
        ("training time", f"{result.trial_time:.3g} s (summed over trials)"),
    ]
    head = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
                   f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
    table = views.trials_table(src).head(top)
    trials = table.to_html(index=False, na_rep="", escape=True, float_format=lambda v: f"{v:.6g}")
    shown = f"best {len(table)} of {len(result.trial_records)} trials" if len(result.trial_records) > top else \
        f"{len(table)} trials"
    return (f"<div class='rung-result'><table>{head}</table>"
            f"<p>{html.escape(shown)} (all of them: <code>result.trials</code>)</p>{trials}</div>")
