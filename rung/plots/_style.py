"""Colours and labels both renderers share, so a file and a notebook figure look alike."""

from __future__ import annotations

from typing import Iterable

from .data import ordered_outcomes, outcome_kind

BASE_COLORS = {
    "completed": "#2ca02c",
    "paused": "#7f7f7f",
    "failed": "#d62728",
    "running": "#1f77b4",
}
#: Stopped trials go from light to dark orange as the rung they were stopped at rises.
STOPPED_RAMP = ("#fdd0a2", "#fdae6b", "#fd8d3c", "#f16913", "#d94801", "#a63603", "#7f2704")
BEST_COLOR = "#9467bd"
METRIC_COLORSCALE = "viridis"


def outcome_colors(outcomes: Iterable[str]) -> dict[str, str]:
    """A colour per outcome: fixed ones by kind, an orange ramp over the stopped levels."""
    ordered = ordered_outcomes(outcomes)
    stopped = [o for o in ordered if outcome_kind(o) == "stopped"]
    colors = {}
    for outcome in ordered:
        if outcome in stopped:
            if len(stopped) == 1:
                colors[outcome] = STOPPED_RAMP[3]
            else:
                step = (len(STOPPED_RAMP) - 1) / (len(stopped) - 1)
                colors[outcome] = STOPPED_RAMP[round(stopped.index(outcome) * step)]
        else:
            colors[outcome] = BASE_COLORS.get(outcome_kind(outcome), "#17becf")
    return colors


def wrap_title(text: str, width: int = 60) -> str:
    """A title broken into lines of at most ``width`` characters, never cut."""
    import textwrap

    return "\n".join(textwrap.wrap(text, width=width, break_long_words=True, break_on_hyphens=False)) or text
