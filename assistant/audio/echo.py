"""Keeping the assistant's own voice out of what the recogniser hears.

We own the playback signal: every block the speaker plays is kept here, and each
microphone frame is paired with what was playing when it was captured. libspeexdsp
subtracts the echo (its adaptive filter learns the room); a gate hushes what is left.

Both streams run without pause, so they are paired by sample count, not by each
block's timestamp: the timestamps jitter by milliseconds, and an adaptive filter
fed a jittering reference never converges. The timestamps only set the first pairing (from the latest block);
a cross-correlation check then corrects it if the echo falls outside the filter (and the
microphone, at the lag found, moves with what was played: a person talking can make a peak too).
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from assistant.audio.resample import Resampler
from assistant.audio.speex import SpeexEchoCanceller
from assistant.recognition.audio import rms

RATE = 16000
FRAME = 160  # 10 ms
LEAD_S = 0.010
"""Pair each microphone frame with the reference this much earlier: the echo must lag it."""
MAX_HOLD_S = 0.080
"""Hold a microphone frame at most this long for its reference to be played."""
TAIL_MS = 128
CHECK_EVERY_S = 1.0
WINDOW_S = 1.0
SEARCH_S = 1.0
STATS_S = 4.0
KEEP_S = 12.0
"""Levels are kept this long: the recogniser may decide a few seconds late."""
NEAR_FLOOR = 10 ** (-55 / 20)
"""Output below this (-55 dBFS) is never a person talking to us."""
NEAR_MARGIN = 10 ** (18 / 20)
"""A person talking over us is at least this far (18 dB) above the echo residue."""
NEAR_MIN_FRAMES = 8
ECHO_SPAN_S = 0.2
"""Echo in a microphone frame can come from anything played this long before it (the
filter's tail and some misalignment): the loudest of it sets how much echo to expect."""
HANGOVER_S = 0.1
PREROLL_S = 0.2
"""A word's soft start (the "s" of "stop") is too quiet to open the gate, so the gate opens on
its louder part and then looks this far back. Frames leave the gate this much later (the
recogniser hears everything PREROLL_S late while a canceller runs)."""
PREROLL_MARGIN = 10 ** (6 / 20)
"""Looking back, a frame passes if it stands this far (6 dB) above the echo residue: the "s"
does, the residue itself (which a recogniser turns into a word before the user's) does not."""
GATE_GAIN = 0.0
"""A closed gate is silence: any murmur left keeps the recogniser's voice detector busy."""
SLIP_EVERY_S = 0.1
SLIP_WINDOW_S = 0.25
"""How often, and over how much audio, the echo's delay is measured to catch a slip."""
SLIP_MIN_SAMPLES = 4
"""A change of the echo's delay by this many samples (0.25 ms) or more is a slip: the filter,
fitted to the old delay, lets our voice through almost whole for seconds (measured on
PulseAudio: jumps of 9-63 samples, none reported as an xrun; most came from the test room's
loopback running dry, see `VirtualAudio.loopback`, and about one a minute is left)."""
REFIT_PASSES = 3
"""Once a slip is caught, the frames it was caught on are fed to the filter again this many times,
rightly paired (offline, 20-sample slips: the leak in the second after fell by about 9 dB, and of
20 real "stop"s said 0.5 s after a slip 9 were heard, not 5; 1.5 s after, 17, not 13)."""
SLIP_ACTIVE = 0.9
"""Share of the window's 10 ms frames that must hold our voice (played and heard) for a measurement."""
BANDS = 16
"""Spectral bands (100 Hz-8 kHz, log-spaced edges; edges in one FFT bin merge, leaving 15) in which
the output is compared with what was played."""
LIKENESS_MAX_LAG = 16
"""Frames by which the echo may lag its pairing when the output is compared with what was played."""
REALIGN_LIKENESS = 0.6
"""The pairing moves onto a lag found in the microphone only if, at that lag, the microphone's band
levels move with what was played at least this closely (`likeness`): our echo does (offline: 1.0
direct, 0.75-0.87 through a 150 ms room response), a person's words against ours do not (at most
0.41 for twelve espeak-ng takes over our narration). A correlation peak alone is no proof: with no
echo in the microphone at all, the peak between the user's words and ours moved the pairing by 1.9 s."""
_EDGES = np.unique(np.round(np.geomspace(100, 7000, BANDS + 1) / (RATE / 256)).astype(int))
_WINDOW = np.hanning(FRAME).astype(np.float32)
_SILENT_BANDS = np.full(len(_EDGES) - 1, -3.0)
"""`band_levels` of a silent frame."""


class ReferenceBuffer:
    """What the speaker played, at 16 kHz, as one continuous stream of samples."""

    def __init__(self, device_rate: int, seconds: float = 8.0) -> None:
        self._resample = Resampler(device_rate, RATE)
        self._pending: deque[tuple[np.ndarray, float]] = deque()
        self._ring = np.zeros(int(seconds * RATE), dtype=np.float32)
        self.written = 0
        self._latest: tuple[float, int] | None = None
        self._lock = threading.Lock()

    def tap(self, block: np.ndarray, when: float) -> None:
        """From the output callback: only a copy; the reader does the work."""
        self._pending.append((block.copy(), when))

    def _drain(self) -> None:
        while self._pending:
            block, when = self._pending.popleft()
            out = self._resample(block)
            self._latest = (when, self.written)
            cap = len(self._ring)
            idx = (self.written + np.arange(len(out))) % cap
            self._ring[idx] = out
            self.written += len(out)

    def index_at(self, when: float) -> int | None:
        """The sample index played at time `when`, by the latest block's timestamp."""
        with self._lock:
            self._drain()
            if self._latest is None:
                return None
            t0, i0 = self._latest
            return i0 + int(round((when - t0) * RATE))

    def written_now(self) -> int:
        with self._lock:
            self._drain()
            return self.written

    def read(self, start: int, n: int) -> np.ndarray:
        """Samples `start`..`start+n` (zeros where not yet played or forgotten)."""
        with self._lock:
            self._drain()
            out = np.zeros(n, dtype=np.float32)
            lo, hi = max(start, self.written - len(self._ring)), min(start + n, self.written)
            if hi > lo:
                out[lo - start : hi - start] = self._ring[np.arange(lo, hi) % len(self._ring)]
            return out


def estimate_lag(mic: np.ndarray, ref: np.ndarray, max_lag: int) -> tuple[int, float]:
    """Samples by which `mic` lags `ref` (GCC-PHAT), and how clear the peak is (peak/mean)."""
    n = len(mic) + len(ref)
    size = 1 << (n - 1).bit_length()
    spec = np.fft.rfft(mic, size) * np.conj(np.fft.rfft(ref, size))
    spec /= np.abs(spec) + 1e-9
    cc = np.fft.irfft(spec, size)
    cc = np.concatenate([cc[-max_lag:], cc[: max_lag + 1]])
    k = int(np.argmax(np.abs(cc)))
    clarity = float(np.abs(cc[k]) / (np.mean(np.abs(cc)) + 1e-12))
    return k - max_lag, clarity


def band_levels(frame: np.ndarray) -> np.ndarray:
    """Log energy of a 10 ms frame in BANDS log-spaced bands."""
    power = np.abs(np.fft.rfft(frame.astype(np.float32) * _WINDOW, 256)) ** 2
    return np.log10(np.add.reduceat(power, _EDGES[:-1])[: len(_EDGES) - 1] + 1e-3)


def likeness(out: np.ndarray, ref: np.ndarray, max_lag: int) -> float:
    """How closely the band levels of `out` (frames x bands) follow those of `ref`, which starts
    `max_lag` frames earlier: the best correlation over lags 0..max_lag of their movements."""
    n = len(out)
    o = out - out.mean(axis=0)
    best = -1.0
    for lag in range(max_lag + 1):
        r = ref[max_lag - lag : max_lag - lag + n]
        r = r - r.mean(axis=0)
        den = float(np.sqrt(np.sum(o * o) * np.sum(r * r)))
        if den > 0:
            best = max(best, float(np.sum(o * r)) / den)
    return best


def _band_frames(x: np.ndarray) -> np.ndarray:
    """`band_levels` of each whole 10 ms frame of `x` (frames x bands)."""
    return np.array([band_levels(x[i : i + FRAME]) for i in range(0, len(x) - FRAME + 1, FRAME)])


def _moves_with(mic: np.ndarray, played: np.ndarray) -> bool:
    """True if `mic` holds `played` (as long, aligned): what a lag must show before we move onto it."""
    return likeness(_band_frames(mic), _band_frames(played), 0) >= REALIGN_LIKENESS


def _pcm16(x: np.ndarray) -> np.ndarray:
    """Float samples (-1..1) as int16."""
    return (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16)


def _active_share(x: np.ndarray) -> float:
    """Share of the 10 ms frames of `x` with sound in them (not a pause)."""
    frames = x[: len(x) // FRAME * FRAME].reshape(-1, FRAME)
    return float(np.mean(np.sqrt(np.mean(frames**2, axis=1)) > 1e-3)) if len(frames) else 0.0


class EchoSuppressor:
    """Microphone blocks (any rate, with capture times) in; clean 16 kHz frames out."""

    def __init__(self, mic_rate: int, reference: ReferenceBuffer | None, tail_ms: int = TAIL_MS) -> None:
        self._resample = Resampler(mic_rate, RATE)
        self._reference = reference
        self._aec = SpeexEchoCanceller(RATE, FRAME, tail_ms) if reference is not None else None
        self._tail = RATE * tail_ms // 1000
        self._buf = np.zeros(0, dtype=np.float32)
        self._mic_index = 0
        self._offset: int | None = None
        """Reference index minus microphone index for the pairing."""
        self._history: deque[np.ndarray] = deque(maxlen=int(WINDOW_S * RATE / FRAME))
        self._since_check = 0
        self._candidate: int | None = None
        self._aligned = False
        self.echo_level = 0.0
        """Loudest RMS of the reference in the ECHO_SPAN_S up to the last frame: how loud we were talking."""
        self._recent_ref: deque[float] = deque(maxlen=int(ECHO_SPAN_S * RATE / FRAME))
        self._levels: deque[tuple[float, float]] = deque(maxlen=int(KEEP_S * RATE / FRAME))
        """(output RMS, reference RMS) of the latest frames."""
        self._bands: deque[tuple[np.ndarray, np.ndarray]] = deque(maxlen=int(KEEP_S * RATE / FRAME))
        """(output, reference) band levels of the latest frames (output before the gate)."""
        self._frames_in = 0
        """Frames processed; output frame n is processed frame n."""
        self._ratios: deque[float] = deque(maxlen=int(STATS_S * RATE / FRAME))
        self._residue: float | None = None
        self._open_frames = 0
        self._held: deque[list] = deque()
        """[frame, open, above the residue] of the last PREROLL_S of frames, waiting for the gate."""
        self._delay: int | None = None
        """Samples the echo lags its pairing, as last measured (None: not yet, or re-aligned since)."""
        self._delay_candidate: int | None = None
        self._since_delay = 0
        self.slips: deque[int] = deque(maxlen=64)
        """Output frames where the echo's delay slipped (and the pairing was moved back onto it)."""

    def process(self, block: np.ndarray, when: float) -> list[np.ndarray]:
        """Int16 16 kHz frames of 10 ms, echo removed, for what is complete so far."""
        out = self._resample(block)
        if self._offset is None and self._reference is not None:
            start = self._reference.index_at(when - len(self._buf) / RATE - LEAD_S)
            if start is not None:
                self._offset = start - self._mic_index
        self._buf = np.concatenate([self._buf, out])
        frames = []
        while len(self._buf) >= FRAME:
            if self._waiting_for_reference():
                break
            frame, self._buf = self._buf[:FRAME], self._buf[FRAME:]
            pcm = _pcm16(frame)
            if self._aec is not None and self._offset is not None:
                played = self._reference.read(self._mic_index + self._offset, FRAME)
                self._recent_ref.append(rms(played))
                self.echo_level = max(self._recent_ref)
                self._history.append(frame)
                self._maybe_realign()
                self._catch_slip()
                pcm = self._aec.process(pcm, _pcm16(played))
                out_rms = rms(pcm) / 32768
                self._levels.append((out_rms, self.echo_level))
                self._bands.append((band_levels(pcm / 32768), band_levels(played)))
                self._held.append([pcm, self._gate_open(out_rms), out_rms > self._above_residue(PREROLL_MARGIN)])
            else:  # nothing played yet, or no canceller: all of it counts as near speech
                self._levels.append((rms(pcm) / 32768, 0.0))
                self._bands.append((band_levels(pcm / 32768), _SILENT_BANDS))
                self._held.append([pcm, True, True])
            self._frames_in += 1
            self._mic_index += FRAME
            while len(self._held) > (PREROLL_S * RATE / FRAME if self._aec is not None else 0):
                pcm, is_open, _ = self._held.popleft()
                frames.append(pcm if is_open else (pcm * GATE_GAIN).astype(np.int16))
        return frames

    def _gate_open(self, out_rms: float) -> bool:
        """Whether the gate lets this frame through; opening also lets the held frames through.

        It hushes what is only our echo's residue, so the recogniser hears quiet, not murmur:
        residue is what a recogniser turns into words, and it keeps its voice detector from
        seeing the end of the user's phrase. A person talking opens the gate at once, with
        what stood above the residue in the PREROLL_S before; it stays open HANGOVER_S after
        them. Until the residue is measured, it is taken to be as loud as what we play
        (nothing cancelled yet).
        """
        ref = self.echo_level
        if ref > 1e-3:
            self._ratios.append(out_rms / ref)
            if len(self._ratios) % 25 == 0 or self._residue is None:
                self._residue = float(np.median(self._ratios)) if len(self._ratios) > 20 else None
        if ref <= 1e-3 or out_rms > self._above_residue(NEAR_MARGIN):
            self._open_frames = int(HANGOVER_S * RATE / FRAME)
            for held in self._held:
                held[1] = held[1] or held[2]
            return True
        if self._open_frames > 0:
            self._open_frames -= 1
            return True
        return False

    def _above_residue(self, margin: float) -> float:
        """Output level `margin` above the echo residue expected now (and above NEAR_FLOOR)."""
        residue = 1.0 if self._residue is None else self._residue
        return max(NEAR_FLOOR, margin * residue * self.echo_level)

    @property
    def frames_heard(self) -> int:
        """Microphone frames taken in so far, in the numbering of the frames put out (those put
        out are PREROLL_S behind while the canceller runs)."""
        return self._frames_in

    @property
    def cancelling(self) -> bool:
        """True when we know what the speaker plays (else nothing here can tell our voice)."""
        return self._aec is not None

    def played_during(self, first_frame: int, last_frame: int) -> bool:
        """True if our voice can be in output frames `first_frame`..`last_frame`: something was
        played in them or in the ECHO_SPAN_S before. Frames no longer kept count as played."""
        first = self._frames_in - len(self._levels)  # frame index of _levels[0]
        if first_frame < first:
            return True
        levels = list(self._levels)[first_frame - first : max(0, last_frame - first + 1)]
        return any(ref > 1e-3 for _, ref in levels)

    def only_own_voice(self, until_frame: int, window_s: float = 2.0) -> bool:
        """True if the `window_s` before frame `until_frame` hold nothing louder than our echo's residue.

        The residue is learnt as the typical ratio of output to reference while we talk;
        a person talking is well above it. Recognisers normalise the level, so without
        this they can find words in a residue 60 dB down.
        """
        near = self.near_frames(until_frame - int(window_s * RATE / FRAME), until_frame)
        return near is not None and near < NEAR_MIN_FRAMES

    def near_frames(self, first_frame: int, until_frame: int) -> int | None:
        """How many output frames `first_frame`..`until_frame` (exclusive) stand above our echo's
        residue (the learnt ratio of output to reference over STATS_S before them); None when
        none of them is kept."""
        levels = list(self._levels)
        first = self._frames_in - len(levels)  # frame index of levels[0]
        start, end = max(0, first_frame - first), min(len(levels), until_frame - first)
        if end <= start:
            return None
        ratios = [out / ref for out, ref in levels[max(0, end - int(STATS_S * RATE / FRAME)) : end] if ref > 1e-3]
        residue = float(np.median(ratios)) if len(ratios) > 20 else 1.0
        return sum(out > max(NEAR_FLOOR, NEAR_MARGIN * residue * ref) for out, ref in levels[start:end])

    def echo_likeness(self, first_frame: int, until_frame: int) -> float | None:
        """How closely the output in frames `first_frame`..`until_frame` (exclusive), before the
        gate, moves with what we played (see `likeness`): near 1 for our own voice leaking
        through, low for a person talking over it. None when those frames are not kept."""
        bands = list(self._bands)
        first = self._frames_in - len(bands)
        start, end = max(0, first_frame - first), min(len(bands), until_frame - first)
        if end - start < 10 or start < LIKENESS_MAX_LAG:
            return None
        out = np.array([o for o, _ in bands[start:end]])
        ref = np.array([r for _, r in bands[start - LIKENESS_MAX_LAG : end]])
        return round(likeness(out, ref, LIKENESS_MAX_LAG), 3)

    def slipped_during(self, first_frame: int, last_frame: int) -> bool:
        """True if the echo's delay slipped in frames `first_frame`..`last_frame`: our voice may
        have leaked through the canceller then, whatever the gate let by."""
        return any(first_frame <= f <= last_frame for f in self.slips)

    def _catch_slip(self) -> None:
        """Measure the echo's delay every SLIP_EVERY_S; when it moves by SLIP_MIN_SAMPLES or more
        in two measurements in a row, move the pairing by as much, so the filter fits again at once.

        Pairing by sample count holds only while the sound system plays and records every sample
        it is given; PulseAudio now and then does not, and says nothing (the delay grows by a
        fraction of a millisecond to a few milliseconds at once).
        """
        self._since_delay += 1
        n = int(SLIP_WINDOW_S * RATE / FRAME)
        if self._since_delay < SLIP_EVERY_S * RATE / FRAME or len(self._history) < n:
            return
        self._since_delay = 0
        span = self._tail
        mic, ref = self._paired(n, span)
        if min(_active_share(mic), _active_share(ref[span : span + len(mic)])) < SLIP_ACTIVE:
            return
        k, clarity = estimate_lag(mic, ref, 2 * span)
        if clarity < 8.0 or abs(k) > 2 * span - FRAME:  # at the edge: a window astride the slip
            return
        delay = k + span
        if self._delay is None or abs(delay - self._delay) < SLIP_MIN_SAMPLES:
            self._delay, self._delay_candidate = delay, None
        elif self._delay_candidate is None or abs(delay - self._delay_candidate) > 1:
            self._delay_candidate = delay  # one measurement can be the user talking over us
        else:
            self._offset += self._delay - delay
            self._delay_candidate = None
            self.slips.append(self._frames_in - n - 2 * int(SLIP_EVERY_S * RATE / FRAME))  # its earliest
            # The filter was fitted to the old delay: until it fits again, what the gate learnt
            # of the residue is too low. Learn it afresh (meanwhile, take it as loud as we are).
            self._ratios.clear()
            self._residue = None
            self._refit(n)  # the window just measured: all of it after the slip
            for held in self._held:  # not yet heard by the recogniser: the leak in them is hushed
                held[1] = False

    def _refit(self, frames: int) -> None:
        """Feed the filter the last `frames` microphone frames again (REFIT_PASSES times), paired
        as they should have been: while the slip went uncaught it adapted to the wrong pairing,
        and on its own it takes seconds to unlearn that, leaking our voice meanwhile (and the
        gate, relearning the residue from that leak, hushed a person talking)."""
        mic, played = (_pcm16(x) for x in self._paired(min(frames, len(self._history)), 0))
        for _ in range(REFIT_PASSES):
            for i in range(0, len(mic), FRAME):
                self._aec.process(mic[i : i + FRAME], played[i : i + FRAME])

    def _paired(self, frames: int, span: int) -> tuple[np.ndarray, np.ndarray]:
        """The last `frames` microphone frames, and the reference paired with them with `span`
        samples more either side (where the echo's delay is searched for)."""
        mic = np.concatenate(list(self._history)[-frames:])
        first = self._mic_index + FRAME - len(mic)  # index of mic[0]
        return mic, self._reference.read(first + self._offset - span, len(mic) + 2 * span)

    def _echo_at(self, lag: int, mic: np.ndarray) -> bool:
        """True if the latest microphone samples `mic` hold our echo `lag` samples behind the
        pairing: what was played there has been played, and the microphone moves with it."""
        start = self._mic_index + FRAME - len(mic) + self._offset - lag
        if start + len(mic) > self._reference.written_now():
            return False  # not played yet: an echo cannot come before its sound
        return _moves_with(mic, self._reference.read(start, len(mic)))

    def _waiting_for_reference(self) -> bool:
        """True while the paired reference is not written yet and we may still wait."""
        if self._aec is None or self._offset is None or len(self._buf) > MAX_HOLD_S * RATE:
            return False
        return self._mic_index + self._offset + FRAME > self._reference.written_now()

    def _maybe_realign(self) -> None:
        """Move the pairing if the echo is not where the filter can reach it.

        The last second of microphone is searched for in the reference up to SEARCH_S
        either side of the current pairing, so even a wrong first guess is found.
        """
        self._since_check += 1
        every = CHECK_EVERY_S if self._aligned else CHECK_EVERY_S / 2
        if self._since_check < every * RATE / FRAME or len(self._history) < self._history.maxlen:
            return
        self._since_check = 0
        span = int(SEARCH_S * RATE)
        mic, ref = self._paired(len(self._history), span)
        if np.std(ref) < 1e-3 or np.std(mic) < 1e-4:
            return
        k, clarity = estimate_lag(mic, ref, 2 * span)
        lag = k + span  # samples the echo lags the current pairing
        if clarity < 8.0 or not self._echo_at(lag, mic):
            self._candidate = None
            return
        target = int(LEAD_S * RATE)
        inside = FRAME // 2 <= lag <= self._tail - 2 * FRAME
        self._aligned = self._aligned or inside
        # Once aligned, move only on two agreeing estimates: the user talking over us can fake one.
        if inside or (self._aligned and (self._candidate is None or abs(self._candidate - lag) > 2)):
            self._candidate = None if inside else lag
            return
        self._offset += target - lag
        self._candidate = None
        self._aligned = True
        self._history.clear()
        self._delay = self._delay_candidate = None
