"""Syllables: how many a phrase has (its vowel phones) and how many an utterance shows (its
syllable nuclei: voiced peaks of loudness with a dip between them).

PocketSphinx's grammar sometimes reads one short word as a phrase of several ("go" as "go
ahead", "nine" as "no i don't"). Such a word has one nucleus; a phrase of three syllables said
has at least two, even run together (docs/BENCHMARKS.md, Recognition, twenty-second round).
"""

from __future__ import annotations

import numpy as np

from assistant.recognition.audio import SAMPLE_RATE, periodicity

VOWELS = frozenset("AA AE AH AO AW AY EH ER EY IH IY OW OY UH UW".split())
"""The vowel phones of PocketSphinx's English dictionary: one per syllable."""
FRAME, HOP = 400, 160
"""25 ms frames every 10 ms, at 16 kHz."""
BAND_HZ = (300.0, 3000.0)
"""Where vowels are loud and most noise is not."""
SMOOTH_FRAMES = 5
DIP_DB = 2.0
"""A dip this deep between two peaks separates two nuclei."""
PEAK_BELOW_DB = 20.0
"""A peak counts within this of the loudest frame..."""
ABOVE_FLOOR_DB = 10.0
"""...and this far above the quietest tenth of the frames."""
VOICED = 0.5
"""`periodicity` of a voiced frame (as the recogniser's voicing count)."""


def phrase_syllables(pronunciations: list[list[str]]) -> int:
    """Syllables of a phrase, from the phones of each of its words."""
    return sum(sum(p in VOWELS for p in phones) for phones in pronunciations)


def nuclei(samples: np.ndarray) -> int:
    """Syllable nuclei in `samples` (float, 16 kHz): voiced peaks of the band's loudness,
    separated by a dip of DIP_DB. 0 when nothing is voiced."""
    if len(samples) < FRAME:
        return 0
    n = 1 + (len(samples) - FRAME) // HOP
    frames = samples[np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]].astype(np.float64)
    power = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1)) ** 2
    freqs = np.fft.rfftfreq(FRAME, 1.0 / SAMPLE_RATE)
    level = 10 * np.log10(power[:, (freqs >= BAND_HZ[0]) & (freqs <= BAND_HZ[1])].sum(axis=1) + 1e-10)
    level = np.convolve(level, np.ones(SMOOTH_FRAMES) / SMOOTH_FRAMES, mode="same")
    low = max(level.max() - PEAK_BELOW_DB, np.percentile(level, 10) + ABOVE_FLOOR_DB)
    kept: list[int] = []
    for i in range(1, n - 1):
        if not (level[i] >= level[i - 1] and level[i] > level[i + 1] and level[i] > low
                and periodicity(frames[i]) >= VOICED):
            continue
        if kept and level[kept[-1]:i + 1].min() > min(level[kept[-1]], level[i]) - DIP_DB:
            if level[i] > level[kept[-1]]:
                kept[-1] = i  # one nucleus: keep its louder peak
            continue
        kept.append(i)
    return len(kept)
