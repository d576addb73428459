"""The report's chart: sessions per week, and minutes per session coloured by how the feet felt.

Drawn with matplotlib's Agg backend: no display on the device, and none needed.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

from .summary import Summary

FEELING_COLOURS = {"better": "#2e7d32", "same": "#9e9e9e", "worse": "#c62828", None: "#bdbdbd"}


def draw(summary: Summary, path: Path) -> None:
    """Write the chart as a PNG at `path`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.dates import DateFormatter
    from matplotlib.patches import Patch

    tz = summary.end.tzinfo
    fig, (weeks_ax, sessions_ax) = plt.subplots(
        1, 2, figsize=(9, 3.4), dpi=100, gridspec_kw={"width_ratios": [1, 2]}
    )
    labels = [w.start.strftime("%d %b") for w in summary.weeks]
    weeks_ax.bar(labels, [w.sessions for w in summary.weeks], color="#1565c0")
    weeks_ax.set_title("Sessions per week")
    weeks_ax.set_xlabel("week starting")
    weeks_ax.yaxis.get_major_locator().set_params(integer=True)
    weeks_ax.tick_params(axis="x", labelrotation=45, labelsize=8)

    days, widths = _day_slots([s.started_at.astimezone(tz) for s in summary.sessions])
    mins = [s.active_s / 60 for s in summary.sessions]
    sessions_ax.bar(days, mins, width=widths, color=[FEELING_COLOURS.get(s.feeling, "#bdbdbd")
                                                     for s in summary.sessions])
    pain = [(d, m) for d, m, s in zip(days, mins, summary.sessions) if s.reports]
    if pain:
        sessions_ax.scatter([d for d, _ in pain], [m + 1 for _, m in pain], marker="x",
                            color="#c62828", label="pain or tingling reported")
    flags = [d for d, s in zip(days, summary.sessions) if s.red_flag]
    if flags:
        sessions_ax.scatter(flags, [0.5] * len(flags), marker="^", color="#ef6c00",
                            label="red flag: no massage")
    handles, _ = sessions_ax.get_legend_handles_labels()
    handles += [Patch(color=FEELING_COLOURS[f], label=f"felt {f}") for f in ("better", "same", "worse")]
    sessions_ax.set_title("Minutes of massage per session")
    sessions_ax.set_xlim(summary.start.astimezone(tz) - timedelta(days=0.5),
                         summary.end.astimezone(tz) + timedelta(days=0.5))
    sessions_ax.set_ylim(0, max(mins, default=0) * 1.15 + 2)
    sessions_ax.xaxis.set_major_formatter(DateFormatter("%d %b", tz=tz))
    sessions_ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    sessions_ax.legend(handles=handles, fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _day_slots(starts: list[datetime]) -> tuple[list[datetime], list[float]]:
    """Bar centres and widths: sessions of one day side by side within that day, not on top."""
    per_day = Counter(t.date() for t in starts)
    seen: Counter = Counter()
    centres, widths = [], []
    for t in starts:
        n, k = per_day[t.date()], seen[t.date()]
        seen[t.date()] += 1
        midnight = t.replace(hour=0, minute=0, second=0, microsecond=0)
        centres.append(midnight + timedelta(days=0.2 + 0.6 * (k + 0.5) / n))
        widths.append(0.6 / n * 0.9)
    return centres, widths
