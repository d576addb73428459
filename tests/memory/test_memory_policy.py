"""The adaptation policy on hand-made records: gaps, difficult runs, lookback, voice."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from assistant.dialogue import Adaptation, Notice
from assistant.memory.policy import adapt, load_policy
from assistant.memory.records import ReportRecord, SessionRecord, StepRecord

NOW = datetime(2026, 3, 10, 19, 0, tzinfo=timezone.utc)
POLICY = load_policy()
STEP = (StepRecord("right", "lotion", 45.0, 60.0, 105.0, 45.0),)


def past(days_ago: float, feeling: str | None = "better", reports: tuple[str, ...] = (),
         status: str = "ended", end_reason: str | None = "completed", massaged: bool = True,
         rate_wpm: int | None = None, volume: float | None = None) -> SessionRecord:
    started = NOW - timedelta(days=days_ago)
    return SessionRecord(
        id=0, started_at=started, ended_at=started + timedelta(minutes=25), status=status,
        mode="run", end_reason=end_reason, feeling=feeling, duration_scale=1.0, gentle=False,
        rate_wpm=rate_wpm, volume=volume, steps=STEP if massaged else (),
        reports=tuple(ReportRecord(100.0, kind, "right", "lotion") for kind in reports),
    )


def lines(adaptation: Adaptation) -> list[str]:
    return [n.line for n in adaptation.opening]


def test_the_first_session_is_the_plain_one(protocol):
    assert adapt([], NOW, protocol, POLICY) == Adaptation()


@pytest.mark.parametrize("days_ago, notice", [
    (0.1, Notice("memory.since.today", "frequency")),
    (0.9, Notice("memory.since.yesterday", "frequency")),  # last evening, by the calendar
    (3, Notice("memory.since.days", "frequency", {"days": 3})),
    (POLICY.long_gap_days, Notice("memory.since.long", "frequency")),
])
def test_the_start_says_how_long_since_the_last_session(protocol, days_ago, notice):
    adaptation = adapt([past(days_ago)], NOW, protocol, POLICY)
    assert adaptation.opening == (notice,)
    assert (adaptation.duration_scale, adaptation.gentle) == (1.0, False)


def test_the_gap_is_counted_in_the_listeners_calendar_days(protocol):
    tokyo = timezone(timedelta(hours=9))
    late_last_night = datetime(2026, 3, 10, 23, 30, tzinfo=tokyo)  # 14:30 UTC
    early_today = datetime(2026, 3, 11, 7, 0, tzinfo=tokyo)
    record = past(0)
    record = SessionRecord(**{**record.__dict__, "started_at": late_last_night.astimezone(timezone.utc)})
    assert lines(adapt([record], early_today, protocol, POLICY)) == ["memory.since.yesterday"]


@pytest.mark.parametrize("feeling, reports, line", [
    ("worse", (), "memory.gentler.worse"),
    ("same", ("pain",), "memory.gentler.pain"),
    ("better", ("tingling",), "memory.gentler.pain"),
    ("worse", ("pain",), "memory.gentler.both"),
])
def test_a_difficult_session_makes_the_next_gentler_and_shorter(protocol, feeling, reports, line):
    adaptation = adapt([past(1, feeling, reports)], NOW, protocol, POLICY)
    assert adaptation.opening[-1] == Notice(line, "monitor.worse")
    assert adaptation.gentle and adaptation.duration_scale == POLICY.gentle_scale


def test_each_difficult_session_in_a_row_shortens_more_down_to_the_least(protocol):
    two = adapt([past(2, "worse"), past(1, "worse")], NOW, protocol, POLICY)
    assert two.duration_scale == pytest.approx(POLICY.gentle_scale ** 2)
    many = adapt([past(d, "worse") for d in (5, 4, 3, 2, 1)], NOW, protocol, POLICY)
    assert many.duration_scale == POLICY.min_scale


def test_worse_again_and_again_advises_a_break(protocol):
    run = [past(d, "worse") for d in range(POLICY.break_after, 0, -1)]
    assert lines(adapt(run, NOW, protocol, POLICY))[-1] == "memory.take_break"
    assert lines(adapt(run[1:], NOW, protocol, POLICY))[-1] == "memory.gentler.worse"


def test_sessions_without_massage_neither_count_nor_break_a_run(protocol):
    red_flag = past(1, None, end_reason="red_flag", massaged=False)
    cut_off = past(0.5, None, status="interrupted", end_reason=None)
    adaptation = adapt([past(3, "worse"), past(2, "worse"), red_flag, cut_off], NOW, protocol, POLICY)
    assert adaptation.duration_scale == pytest.approx(POLICY.gentle_scale ** 2)
    assert lines(adaptation) == ["memory.interrupted", "memory.since.today", "memory.gentler.worse"]


def test_a_good_session_or_old_ones_end_the_run(protocol):
    assert not adapt([past(2, "worse"), past(1, "better")], NOW, protocol, POLICY).gentle
    old = past(POLICY.lookback_days + 1, "worse")
    assert not adapt([old], NOW, protocol, POLICY).gentle


def test_a_cut_off_session_with_pain_counts_as_difficult(protocol):
    cut_off = past(1, None, ("pain",), status="interrupted", end_reason=None)
    assert adapt([cut_off], NOW, protocol, POLICY).gentle


def test_the_last_voice_is_kept_when_within_the_limits(protocol):
    v = protocol.voice
    kept = adapt([past(1, rate_wpm=v.rate_min, volume=v.volume_max)], NOW, protocol, POLICY)
    assert (kept.rate_wpm, kept.volume) == (v.rate_min, v.volume_max)
    odd = adapt([past(1, rate_wpm=v.rate_max + 50, volume=v.volume)], NOW, protocol, POLICY)
    assert (odd.rate_wpm, odd.volume) == (None, v.volume)


def test_the_policy_numbers_come_from_the_protocol_file(tmp_path):
    from assistant.protocol import PROTOCOL_PATH, ProtocolError

    text = PROTOCOL_PATH.read_text().replace("gentle_scale: 0.8", "gentle_scale: 0.7")
    assert text != PROTOCOL_PATH.read_text()
    (tmp_path / "p.yaml").write_text(text)
    assert load_policy(tmp_path / "p.yaml").gentle_scale == 0.7
    (tmp_path / "bad.yaml").write_text(text.replace("break_after: 3", "break_after: many"))
    with pytest.raises(ProtocolError, match="memory"):
        load_policy(tmp_path / "bad.yaml")


@pytest.mark.parametrize("rule", ["skin.broken", "inflammation", "circulation"])
def test_after_a_red_flag_the_next_start_recalls_the_advice(protocol, rule):
    stopped = replace(past(1, feeling=None, end_reason="red_flag", massaged=False),
                      rules=((40.0, rule),))
    adaptation = adapt([stopped], NOW, protocol, POLICY)
    assert Notice(f"memory.red_flag.{rule}") in adaptation.opening
    # No massage happened, so there is no "you already had one today".
    assert not any(n.line.startswith("memory.since") for n in adaptation.opening)
    assert "doctor or nurse" in protocol.line(f"memory.red_flag.{rule}")
    # A red flag is no reason to shorten the massage: the check decides again today.
    assert adaptation.duration_scale == 1.0 and not adaptation.gentle


def test_a_completed_session_recalls_no_red_flag(protocol):
    assert not any(n.line.startswith("memory.red_flag") for n in adapt([past(1)], NOW, protocol, POLICY).opening)
