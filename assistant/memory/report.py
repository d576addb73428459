"""`footcare report`: a one-page summary for a carer or clinician, in Markdown or HTML.

The content is built once as plain sections (paragraphs, bullet lists, tables)
and then written in either format, so both always say the same thing.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Mapping, Sequence, Union

from ..protocol import Rule
from .chart import draw
from .summary import Summary, ending, minutes, when

MAX_SESSION_ROWS = 14
"""The session list keeps to one page: the latest this many."""
FORMATS = {".md": "markdown", ".markdown": "markdown", ".html": "html", ".htm": "html"}


@dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


Block = Union[str, list[str], Table]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _overview(s: Summary) -> list[str]:
    endings = ", ".join(f"{n} {what}" for what, n in s.endings.most_common())
    pain, tingling = s.reports("pain"), s.reports("tingling")
    feelings = ", ".join(f"{what} {n}" for what, n in sorted(s.feelings.items()))
    return [
        f"Sessions: {len(s.sessions)} ({endings or 'none'}), about {s.per_week} a week.",
        f"Massage time: {s.total_minutes:.0f} minutes in all; "
        f"{s.mean_minutes:.1f} minutes a session on average (both feet).",
        f"Pain reported during massage: {_plural(pain, 'time')}; tingling or discomfort: "
        f"{_plural(tingling, 'time')}.",
        f"Red flags found in the safety check (no massage that day): {len(s.red_flags)}.",
        f"How the feet felt afterwards: {feelings or 'not asked yet'}.",
        f"Sessions made gentler and shorter after pain or feeling worse: {s.gentler}.",
    ]


def _found(rule: str | None, rules: Mapping[str, Rule]) -> str:
    """What a red flag means, in the guide's words."""
    return rules[rule].guide if rule is not None and rule in rules else str(rule)


def sections(s: Summary, rules: Mapping[str, Rule]) -> list[tuple[str, list[Block]]]:
    """The report's content, format-free."""
    tz = s.end.tzinfo
    weeks = Table(("Week starting", "Sessions", "Minutes", "Pain or tingling reports", "Felt worse"),
                  tuple((w.start.strftime("%a %d %b"), str(w.sessions), f"{w.minutes:.0f}",
                         str(w.reports), str(w.worse)) for w in s.weeks))
    flags: list[Block] = (
        [Table(("Date", "What the check found"),
               tuple((when(f.started_at, tz), _found(f.red_flag, rules)) for f in s.red_flags))]
        if s.red_flags else ["None in this period."]
    )
    latest = s.sessions[-MAX_SESSION_ROWS:]
    listing: list[Block] = [Table(
        ("Date", "Minutes", "How it ended", "Pain", "Tingling", "Feet afterwards"),
        tuple((when(x.started_at, tz), f"{minutes(x.active_s):.1f}", ending(x), str(x.count("pain")),
               str(x.count("tingling")), x.feeling or "-") for x in reversed(latest)),
    )] if latest else ["No sessions in this period."]
    if len(s.sessions) > len(latest):
        listing.append(f"The latest {len(latest)} of {len(s.sessions)} sessions are shown.")
    return [
        ("In short", [_overview(s)]),
        ("Week by week", [weeks]),
        ("Red flags", flags),
        ("Sessions, latest first", listing),
    ]


def _title(s: Summary, made: datetime) -> tuple[str, str]:
    tz = s.end.tzinfo
    period = (f"From {s.start.astimezone(tz):%a %d %b %Y} to {s.end.astimezone(tz):%a %d %b %Y} "
              f"({s.days} days). Made on {when(made, tz)}.")
    return "Foot massage report", period


def _md_block(block: Block) -> str:
    if isinstance(block, str):
        return block
    if isinstance(block, list):
        return "\n".join(f"- {item}" for item in block)
    lines = ["| " + " | ".join(block.header) + " |", "|" + "---|" * len(block.header)]
    lines += ["| " + " | ".join(row) + " |" for row in block.rows]
    return "\n".join(lines)


def markdown(title: str, period: str, chart: str, content: Sequence[tuple[str, list[Block]]]) -> str:
    parts = [f"# {title}", period, f"![Sessions per week, and minutes of massage per session]({chart})"]
    for heading, blocks in content:
        parts.append(f"## {heading}")
        parts += [_md_block(b) for b in blocks]
    return "\n\n".join(parts) + "\n"


def _html_block(block: Block) -> str:
    e = html.escape
    if isinstance(block, str):
        return f"<p>{e(block)}</p>"
    if isinstance(block, list):
        return "<ul>" + "".join(f"<li>{e(item)}</li>" for item in block) + "</ul>"
    head = "".join(f"<th>{e(h)}</th>" for h in block.header)
    body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block.rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


STYLE = ("body{font-family:sans-serif;max-width:50em;margin:1em auto;font-size:11pt}"
         "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 8px;text-align:left}"
         "img{max-width:100%}")


def html_page(title: str, period: str, chart: str, content: Sequence[tuple[str, list[Block]]]) -> str:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>", f"<p>{e(period)}</p>",
            f'<img src="{e(chart)}" alt="Sessions per week, and minutes of massage per session">']
    for heading, blocks in content:
        body.append(f"<h2>{e(heading)}</h2>")
        body += [_html_block(b) for b in blocks]
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")


def chart_path(out: Path) -> Path:
    """The PNG written beside the report: report.md -> report-chart.png."""
    return out.with_name(f"{out.stem}-chart.png")


def write_report(summary: Summary, rules: Mapping[str, Rule], out: Path, made: datetime) -> Path:
    """Write the report and its chart; the format follows the file's suffix. Returns the chart's path."""
    kind = FORMATS[out.suffix.lower()]
    png = chart_path(out)
    draw(summary, png)
    title, period = _title(summary, made)
    render = markdown if kind == "markdown" else html_page
    out.write_text(render(title, period, png.name, sections(summary, rules)), encoding="utf-8")
    return png
