"""The built-in engine: PocketSphinx with the English model its PyPI wheel ships.

One-word phrases ("stop", "yes", "no") are heard by keyword spotting against a phone loop
(spotting.py), which rejects near-misses ("top", "go") far better than a grammar can.
Longer phrases ("carry on", "not sure") are heard by a grammar; each utterance gets one
decision from the two.

Rejection in the grammar: a closed grammar of the phrases turns every sound into its nearest
phrase, so the grammar also offers one or two of the most frequent English words as
"garbage", and the phrases of the intents this state does not listen for; other speech
comes out as one of those and is dropped. A phrase must also
be complete: when the search ends inside a longer phrase, the n-best list supplies it.
An optional likelihood-ratio test against a free phone loop (`threshold`) was measured
and is off by default (see docs/BENCHMARKS.md, `scripts/bench_recognition.py --sweep`).

Two ways of decoding: streaming (the live loop: live CMN, partial results act early) and
whole utterances (`SphinxSettings.batch`, an option for recordings: each utterance the
voice activity detector closes is decoded in one pass with batch CMN: higher recall, more
false accepts).
"""

from __future__ import annotations

import math
import tempfile
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.intents import SAFETY_COMMANDS, Grammars
from assistant.recognition.audio import ROOM_TONE_RMS, RoomTone, from_pcm, periodicity, rms
from assistant.recognition.fsg import phrase_priors, trie_transitions, with_garbage
from assistant.recognition.garbage import garbage_words
from assistant.recognition.phrases import PhraseSet, other_phrases, phrase_set
from assistant.recognition.spotting import SEARCH_FLOOR, Arbiter, Keyphrase, Spotted, SpottingPlan, ThresholdRule, plan
from assistant.recognition.stability import PartialGate
from assistant.recognition.syllables import nuclei, phrase_syllables
from assistant.recognition.types import Hypothesis, RecognizerError
from assistant.recognition import word_check

SAMPLE_RATE = 16000
MAX_UTTERANCE_S = 8.0
VAD_WINDOW_S = 0.3
"""The voice activity detector decides on this much audio (and so decides this late)."""
VAD_RATIO = 0.7
"""Share of the detector's window that must be voice (also assistant/audio/user_voice.py)."""
NBEST = 10
MIN_PEAK_RMS = 0.003
"""Loudest 30 ms frame of an utterance must reach this (-50 dBFS): the voice activity
detector also fires on faint hiss, which the grammar would turn into a phrase."""
VOICED = 0.5
MIN_VOICED_FRAMES = 2
"""An utterance needs this many 30 ms frames whose `periodicity` reaches VOICED: every phrase
has a vowel, and hiss, a running tap or a clatter, which the spotter can take for "stop",
have none (measured in docs/BENCHMARKS.md). The word check may still take its word in such an
utterance, when it hears it plainly (`SphinxSettings.word_check_unvoiced_margin`)."""
BACKGROUND_S = 3.0
"""The background level is the 20th percentile of the frame levels over this much audio."""
LOG_BASE = math.log(1.0001)
KWS_OFFSET = 1500
"""PocketSphinx reports a spotted word's margin over the phone loop minus this (KWS_MAX)."""
# Words of our templates missing from cmudict, spelt in its phone set.
EXTRA_PRONUNCIATIONS = {"tingles": "T IH NG G AH L Z"}
WORD_LEAD_S = 0.8
"""The word check hears the utterance from this long before its onset (the detector's onset can
fall inside a soft start) and up to the moment of the decision."""
WORD_QUIET_S = 0.5
"""Faint noise put after the audio the word check judges: an early decision comes at the word's
end, and the check was trained on words with quiet after them."""
WORD_AFTER_S = 0.3
"""A spotted word beginning this long after the utterance's onset has a word before it ("please
stop"): the word check hears the spotted word alone (from WORD_OWN_LEAD_S before it)."""
WORD_OWN_LEAD_S = 0.1
SPHINX_FRAME_S = 0.01
"""PocketSphinx's frame: its segments' start and end frames count these from the onset."""
WORD_PEAK_DB = 10.0
"""The loud part of an utterance: its frames within this of its loudest (and WORD_FLOOR_DB above
its quietest fifth). In noise that starts before the word, the detector's utterance can run the
whole recording while the word in it is short."""
WORD_FLOOR_DB = 6.0
WORD_LOUD_AFTER_S = 0.2
"""The loud part must begin this long after the onset to be judged alone: what came before it
was noise, not a first word ("i don't know", loud from its onset, stays a phrase)."""
WORD_AUDIO_S = 3.0
"""Audio kept for the word check: the utterances it judges and WORD_LEAD_S before them."""
STEADY_BELOW = 3.0
"""The word check's margin is taken over several speeds (SphinxSettings.word_check_speeds) from
this far below its floor: over the benchmark's clips, of 79 margins 2 to 3 below it, the median
of one real "no" rose above it."""
_QUIET = np.random.default_rng(0).normal(0, ROOM_TONE_RMS, int(WORD_AUDIO_S * SAMPLE_RATE)).astype(np.float32)
"""Faint noise (room tone) where the word check's audio needs padding."""
ADAPTED_DIR = Path(__file__).resolve().parent / "adapted"
"""The acoustic model adapted to real speakers (scripts/adapt_sphinx.py): these files are
loaded over the stock model's of the same names."""
ADAPTED_FILES = {"means": "mean", "variances": "var", "sendump": "sendump", "transition_matrices": "tmat"}
"""The adapted files, each with the PocketSphinx option that loads it."""


def stock_model_dir() -> Path:
    """The English model of the pocketsphinx wheel (`en-us/` with its dictionary and LMs)."""
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us"


@dataclass(frozen=True)
class SphinxSettings:
    """Tuning of the rejection, measured in docs/BENCHMARKS.md."""

    threshold: float | None = None
    """Minimum of (grammar score - phone-loop score) per 10 ms frame, in log-1.0001 units;
    None: no phone loop (measured: it cost more recall than it saved false accepts once the
    garbage words are in the grammar, and it doubles the CPU time)."""
    phone_lw: float = 1.0
    """Language weight of the phone bigram in the phone loop."""
    scale: float = 4.0
    """Spread of the logistic that turns the score ratio into a 0..1 confidence."""
    garbage_words: int = 100
    """How many frequent English words the garbage branch offers (0: none). 100 with spotting
    (more cost CPU time and no accuracy, docs/BENCHMARKS.md); 300 was measured without it."""
    garbage_weight: float = 0.5
    """Prior of the garbage branch against all phrases together."""
    garbage_second: float = 0.3
    """Probability of a second garbage word."""
    garbage_second_words: int = 10
    """How many words may come second (each one costs decoding time in every frame)."""
    max_hmm: int = 30000
    """Cap on active HMMs per frame: bounds the CPU time per frame on a small board."""
    other_phrases: bool = True
    """Also listen for (and drop) the phrases of intents this state does not listen for."""
    lw: float = 3.0
    """Language weight: how much the grammar's priors count against the acoustics."""
    partials: bool = True
    """Act on partial results; benchmarks that sweep the threshold turn this off."""
    batch: bool = False
    """Decode each utterance only when the voice activity detector closes it, in one pass with
    cepstral mean normalisation over that utterance (batch CMN) instead of the running (live)
    mean. No partial results, so a command acts ~0.3 s later. Measured on held-out speakers
    (docs/BENCHMARKS.md): recall 5-9 points higher clean and at 10 dB, but near-miss words
    accepted 11 points more often and some noise alone (a cat) becomes a command, so it is
    off by default (`footcare recognize --whole-utterances`, `bench_recognition.py --whole`)."""
    beam: float = 1e-35
    """Search beam (HMMs, then word exits `wbeam`): narrower than PocketSphinx's default,
    measured no worse in recall and half the CPU time with batch decoding."""
    wbeam: float = 1e-25
    spotting: bool = True
    """Keyword spotting for one-word phrases beside the grammar (spotting.py); False: the grammar
    decides every phrase."""
    rule: ThresholdRule = field(default_factory=ThresholdRule)
    """Margin each spotted word needs."""
    slack: float = 300.0
    """The grammar's one-word phrase ("nah") counts when a word of its intent was spotted
    within this of its threshold (spotting.py; scaled log units)."""
    phrase_slack: float = 900.0
    """The grammar's phrase of several words with a spotted word of its intent ("louder please")
    counts when that word was spotted within this of its threshold. 600 lost espeak-ng's "help me
    please", "skip that now please" and a seventh of its phrases (106 -> 127 of 191 heard at 900;
    1e9, no such check: 134, but "my daughter phoned yesterday" became "louder please"); the dev
    clips are the same at all three (docs/BENCHMARKS.md, Recognition, nineteenth round)."""
    phrase_max_extra_s: float = 1.5
    """A phrase the grammar decides (not a safety one) counts only when its words cover its
    utterance but for at most this many seconds. In plain talk without a command word (ten-word
    stretches of the guide, espeak-ng), the grammar found phrases ("ok please", "what are the
    options") that left 1.5-6.0 s uncovered; phrases said alone left at most 1.1 s
    (docs/BENCHMARKS.md, Recognition, nineteenth round)."""
    grammar_fillers: bool = True
    """PocketSphinx's silence and noise words at every state of the grammar (`fsgusefiller`).
    Without them the grammar costs a sixth less CPU time but hears phrases of several words far
    worse (espeak-ng's 25 -> 15 of 78, "i don't know" as "no"): docs/BENCHMARKS.md, Recognition,
    seventeenth round."""
    spotter_ds: int = 1
    """The spotters score the acoustic model every this many frames (PocketSphinx's `ds`) and
    reuse the scores between. 2 costs a sixth less CPU time (real-time factor 0.096 -> 0.080)
    but takes more other words for commands (held-out near-miss 8 -> 10 of 168, unknown 11 -> 13
    of 105) and heard a 10 dB "no" as "yep": docs/BENCHMARKS.md, Recognition, eighteenth round."""
    nbest_agree: int = 5
    """A phrase the grammar decides must lead this many of its n-best readings."""
    adapted_spotter: bool = True
    """A second spotter listens beside the stock one, with the acoustic model adapted to real
    speakers (ADAPTED_DIR, scripts/adapt_sphinx.py); a word counts when either spotter hears it
    above its threshold, the adapted one's raised by `adapted_margin`. The stock spotter alone
    is what the synthetic voices of the tests were measured with; the adapted model alone hears
    real people better but espeak-ng voices worse (the spoken session test's "no" went unheard).
    Together, chosen on the `tune` speakers and measured on the held-out ones (docs/BENCHMARKS.md,
    Recognition, ninth round): clean stop 87 -> 91%, yes 85 -> 86%, no 49 -> 62%, false accepts
    as before (near-miss 6%, unknown 10%); it costs a third decoder (real-time factor 0.05 -> 0.07).
    Beside the word check it adds no recall on the dev clips, but without it 2 of 35 real "stop"s
    decided early are decided only at the utterance's end, 0.5 s later (docs/BENCHMARKS.md,
    Barge-in, eighteenth round; the sixteenth round's barge-in figures were run-to-run spread)."""
    stock_spotter: bool = True
    """A spotter listens with the stock model too (the adapted spotter's margins are then lowered
    by `adapted_margin`). False: the adapted model's spotter listens alone, at the stock thresholds:
    a third less CPU time (real-time factor median 0.115 -> 0.081 over the benchmark, 0.173 ->
    0.127 at 0 dB), held-out clean other words taken 15 -> 12 of 273, real speakers' answers about
    as before (10 dB "no" 39 -> 38 of 49, 0 dB "yes" and "no" 58 -> 52 of 103); but espeak-ng's
    voices are heard worse (10 dB phrases 18 -> 14 of 48, "please stop" decided at its end instead
    of at the "stop"; seven tests fail), so it is not the default (docs/BENCHMARKS.md, Recognition,
    twenty-fourth round)."""
    adapted_margin: float = 200.0
    """How much more margin a word needs from the adapted spotter than from the stock one."""
    adapted_margin_overrides: dict[str, float] = field(default_factory=lambda: {"stop": 300.0, "no": 100.0})
    """Chosen on the `tune` speakers: the adapted model's "stop" takes "up" for it more often,
    and its "no" is worth more."""
    adapted_grammar: bool = False
    """The grammar (phrases of several words) uses the adapted model too: real speakers' "yes"
    91%, "no" 74%, but espeak-ng voices' phrases are heard worse ("I don't know" in three voices
    not heard as "not sure"; "carry on" missed in a long stream), so it is off."""
    phrase_min_syllables: int | None = 3
    """A phrase the grammar decides (not a safety one) of at least this many syllables counts
    only when its utterance shows more than one syllable nucleus (syllables.py): the grammar
    read one short word as a phrase ("go" as "go ahead", "on" as "too quiet", "nine" as "no i
    don't"). Those words showed one nucleus, as 274 of 308 real "go", "on" and "no" clips did;
    espeak-ng's phrases of three syllables or more showed one in 1 of 1062 takes (seven voices,
    110-240 words a minute, clean and at 10 dB). Real two-syllable words showed one in a third
    of clips, so two-syllable phrases ("go on", "hang on") are not judged (docs/BENCHMARKS.md,
    Recognition, twenty-second round). None: never."""
    lattice_only_for_phrases: bool = True
    """The grammar's lattice (PocketSphinx's `bestpath`: its best path and the posterior behind the
    confidence) is built at an utterance's end only when the search's own best reading, taken just
    before, is not a complete reading of garbage words or of another state's phrase. The lattice
    costs 36 ms an utterance clean and 240 ms at 0 dB SNR (40% of the CPU time there). From such
    readings it gave a phrase of this grammar in 8 of 164 utterances (every third dev clip: "go" as
    "go on" and "go ahead", "no and" as "no"); over the 910 dev clips two decisions changed, both
    other words no longer taken ("cat" as "yep", "up" as "stop"). CPU time a third less at 0 dB and
    a fifth less at 10 dB, with the same decisions on those 400 clips and flite's 350 takes
    (docs/BENCHMARKS.md, Recognition, twenty-third round). False: the lattice is always built."""
    word_check: bool = True
    """A second opinion (word_check.py, Google's speech embedding and a classifier over it) on
    "stop", "yes" and "no" in utterances one word long (`word_check_max_s`, `word_check_loud_s`):
    it takes the word when it hears it, PocketSphinx or not, and refuses PocketSphinx's "yes" or
    "no" when it does not hear that word, and its "stop" only when far from hearing it
    (`word_check_stop_floor`). Other phrases ("nah", "carry on") stay PocketSphinx's. Measured
    on held-out speakers (docs/BENCHMARKS.md, Recognition, eleventh round)."""
    word_check_stop_floor: float = -5.0
    """PocketSphinx's "stop" is refused only when the word check's margin for it is below this:
    of 140 real "stop"s decided early, 2 were that far (8 below 0), against 15 of the 17 other
    words taken for "stop" (off, up, unknown words); espeak-ng's "stop" and "please stop" in six
    voices were at -3.7 or above. A false "stop" is safe, a lost one is not."""
    word_check_overrule: float = 5.0
    """A phrase PocketSphinx heard that is not one of the check's words ("please go on", "none")
    gives way to the check's word of another intent when the check hears that word with at least
    this margin; a safety phrase ("that hurts", "wait") always stands. Over the 910 dev clips and
    176 espeak-ng takes of short answers (both splits), a non-check phrase came with a check
    margin above 0 only on that word's own clips: real
    "stop"s heard as "please go on" (7.3) and "none" (18.1), real "no"s heard as "go on"
    (16.3) and "go ahead" (9.7); a "yes i have" gave "no" 1.8 (and "yes", its own intent, 17).
    A "yes", "no" or "stop" of PocketSphinx's that the check refuses is taken as nothing heard:
    the check's own word then counts above 0, as it does there. Over the benchmark's 1426 clips,
    such a refused word came with another check word above 0 only on real "no"s (2.4-13.0 for
    "no"), which were dropped below 5 (docs/BENCHMARKS.md, Recognition, nineteenth and twentieth
    rounds)."""
    word_check_alternate_floor: float = -3.0
    """A lone word of an intent the check has a word for, that is not that word but begins with
    its sound ("yep", "nah", "none" beside "yes" and "no"; not "okay" or "sure"), counts only when
    the check's margin for its intent's word is at least this. The check never learnt these
    words, but a real one sounds enough like its intent's word: real "yes"/"no" clips read as
    "yep", "nope", "nah" or "none" scored -0.2 to 16.9. Real other words PocketSphinx took for
    them scored -2.1 to -14.8 ("eight" as "yup", "nine" as "nah" and "none"): a false "no" to "is
    any skin broken?" would let the massage go on. Costs a share of espeak-ng's "yup" and "nah",
    which scored -3.2 and -5.8 in the median (docs/BENCHMARKS.md, Recognition, twentieth round)."""
    word_check_spotted_in_talk: bool = True
    """A word the spotter hears inside a longer utterance, more than WORD_AFTER_S after its onset
    ("stop" in a television's talk, "please stop"), is judged by the check too, on its own audio
    from where the spotter first reported it (at most WORD_AUDIO_S), whatever the utterance's
    length. In plain talk without a command word (78 ten-word takes of the guide, espeak-ng),
    spotted "stop"s 11 -> 5; real "stop"s after two seconds of talk or after another word of the
    same speaker, 144 and 116 of 154 heard, before and after (docs/BENCHMARKS.md, Recognition,
    twentieth round)."""
    word_check_unvoiced_margin: float | None = 3.0
    """An utterance loud enough but with too few voiced frames (MIN_VOICED_FRAMES), where
    PocketSphinx hears nothing, still gives the check's word when the check hears it with at
    least this margin; None: never. Some real speakers' "stop" is not voiced enough, clean
    (`5f814c23`, `37dca74f`) or in a running tap (`a2473d62`), and was lost. Over 275 windows of
    the four noises alone, 25 silence clips and 696 other words, clean and at 10 dB, the best
    margin in such utterances was 0.3 (-2.7 in noise alone); the tune speakers' "stop"s lost there
    scored 4.6 to 20.7 (docs/BENCHMARKS.md, Recognition, twentieth round)."""
    word_check_speeds: tuple[float, ...] = (0.92, 1.08)
    """Where the check alone decides (PocketSphinx heard nothing, or a word the check refused),
    its margin for a "yes" or "no" is the median over the audio as it is and played at each of
    these speeds (from STEADY_BELOW under the floor): the word must be heard at two of the three.
    One reading lands above or below the threshold by chance; a word really said stays heard a
    little faster or slower. A "stop" is judged as said: the median lost three real ones, and
    where it found two more in noise, a "stop" below the threshold as said becomes a new way for
    a sound to end the session (the benchmark's clips, one word each, say nothing of our own
    voice). Over the benchmark's clips of held-out speakers: their "yes" and "no" heard 7 more
    (clean 178 -> 184 of 192), other words taken 2 fewer (26 -> 24 of 370) (docs/BENCHMARKS.md,
    Recognition, twenty-first round). (): as said only."""
    word_check_max_s: float = 1.6
    """Longer utterances are phrases, which the word check was not trained on (a word of 1 s
    ends as an utterance of 1.3-1.5 s: the detector closes it a window late), unless their loud
    part is one word long (`word_check_loud_s`)."""
    word_check_loud_s: float = 0.9
    """A longer utterance is still judged when its loud part (WORD_PEAK_DB), begun after
    WORD_LOUD_AFTER_S, lasts up to this: a word in noise that began before it (held-out "stop",
    "yes" and "no" at 10 dB: 55 of 56 such utterances within it; "i don't know" at 130 wpm,
    1.1 s, is not). docs/BENCHMARKS.md, Recognition, fifteenth round. 0: never."""
    fresh_mean_snr_db: float | None = 30.0
    """In a recording (a stream begun with `new_stream`), when an utterance's onset stands this
    far (dB) above the background, the spotter decodes it from the model's own cepstral mean
    instead of the running one, which was learnt from other recordings: other speakers,
    devices, noise. In noise the running mean is kept (it has learnt the noise). The grammar
    always keeps the running mean (started fresh, it took more sentences for phrases), and so
    does a live stream, whose running mean is learnt from its one microphone and user (with
    the fresh start live, the spoken session test twice missed the user's words over our
    narration in CI). None: always the running mean. Measured in docs/BENCHMARKS.md
    (Recognition, seventh round)."""


class SphinxRecognizer:
    """Streaming phrase recogniser: voice activity segments the stream, a weighted grammar of
    the phrases plus garbage words decodes each utterance, partial results act early."""

    sample_rate = SAMPLE_RATE

    def __init__(self, grammars: Grammars | None = None, model: str | Path | None = None,
                 settings: SphinxSettings = SphinxSettings()) -> None:
        try:
            from pocketsphinx import Decoder, Endpointer
        except ImportError:
            raise RecognizerError("PocketSphinx is not installed; run `.venv/bin/pip install pocketsphinx`") from None
        root = Path(model) / "en-us" if model else stock_model_dir()
        hmm, dic, phone_lm = root / "en-us", root / "cmudict-en-us.dict", root / "en-us-phone.lm.bin"
        for path in (hmm, dic, phone_lm):
            if not path.exists():
                raise RecognizerError(f"the PocketSphinx English model is missing ({path}); "
                                      f"reinstall it with `.venv/bin/pip install --force-reinstall pocketsphinx`")
        adapted = self._adapted_files() if (settings.adapted_spotter or settings.adapted_grammar) and not model else {}
        grammar_model = adapted if settings.adapted_grammar else {}
        spot_adapted = settings.spotting and settings.adapted_spotter and bool(adapted)
        spot_stock = settings.spotting and (settings.stock_spotter or not spot_adapted)
        self.settings = settings
        self._model_dir = root
        self.grammars = grammars or Grammars()
        common = dict(hmm=str(hmm), dict=str(dic), lm=None, loglevel="FATAL", beam=settings.beam,
                      wbeam=settings.wbeam, maxhmmpf=settings.max_hmm)
        try:
            self._cmd = Decoder(**common, lw=settings.lw, fsgusefiller=bool(settings.grammar_fillers), **grammar_model)
            self._kws = Decoder(**common, ds=settings.spotter_ds, **({} if spot_stock else adapted)) if (
                settings.spotting) else None
            """The spotter: the stock model's, or the adapted one's when it listens alone."""
            self._kws_adapted = Decoder(**common, ds=settings.spotter_ds, **adapted) if (
                spot_stock and spot_adapted) else None
            """The adapted model's spotter beside the stock one (its margins lowered by `adapted_margin`)."""
            self._loop = None if settings.threshold is None else Decoder(
                hmm=str(hmm), allphone=str(phone_lm), lw=settings.phone_lw, beam=1e-20, pbeam=1e-20,
                loglevel="FATAL", **grammar_model)
        except (RuntimeError, ValueError) as exc:
            raise RecognizerError(f"the PocketSphinx model in {root} cannot be loaded ({exc}); "
                                  f"reinstall it with `.venv/bin/pip install --force-reinstall pocketsphinx`") from None
        for word, phones in EXTRA_PRONUNCIATIONS.items():
            if self._cmd.lookup_word(word) is None:
                self._cmd.add_word(word, phones, True)
        self._new_vad = lambda: Endpointer(window=VAD_WINDOW_S, ratio=VAD_RATIO, sample_rate=SAMPLE_RATE)
        self._vad = self._new_vad()
        self._frame_bytes = self._vad.frame_bytes
        self._recent: deque[tuple[int, bytes]] = deque(maxlen=round(VAD_WINDOW_S / self._vad.frame_length) + 4)
        """The last frames as they came in, numbered: the detector hands on its frames a window
        late, so at the start of speech the decoders are fed from here and then kept current."""
        self._frame_no = 0
        self._next_to_feed = 0
        self._levels: deque[float] = deque(maxlen=round(BACKGROUND_S / self._vad.frame_length))
        """RMS of the latest frames of a recording, speech or not (none live): the background
        is their quiet end."""
        self._initial_mean = self._cmd.get_cmn()
        self._running_means: list[tuple[object, str]] = []
        """The spotters' running cepstral means, kept aside while an utterance starts fresh."""
        self._recording = False
        """The stream is a recording (`new_stream`), not the live microphone."""
        self._loaded: dict[str, PhraseSet] = {}
        self._plans: dict[str, SpottingPlan] = {}
        self._arbiter: Arbiter | None = None
        self._plan: SpottingPlan | None = None
        self._gate = PartialGate()
        self._pending = b""
        self._room_tone = RoomTone()
        self._stream_s = 0.0
        """Seconds of audio the voice activity detector has seen: its clock."""
        self._in_utt = False
        self._utt_frames = 0
        self._peak = 0.0
        self._voiced = 0
        self._utt_audio: list[bytes] = []
        self._word_check = word_check.load() if settings.word_check else None
        self._heard: deque[bytes] = deque(maxlen=round(WORD_AUDIO_S / self._vad.frame_length))
        """The latest frames as fed to the decoders, for the word check."""
        self._refused = False
        """The word check refused this utterance's early decision: it decides again at the end."""
        self.last_ratio: float | None = None
        """Score ratio of the last phrase judged, for benchmarks that sweep the threshold."""
        self.phrases: PhraseSet
        for name in self.grammars.named:  # up front: a switch mid-session must be instant
            self._loaded[name] = self._build(name)
        self.set_grammar("narration")

    @staticmethod
    def _adapted_files() -> dict[str, str]:
        """PocketSphinx options that load the adapted model over the stock one (it was adapted
        from the stock model and fits no other)."""
        for name in ADAPTED_FILES:
            if not (ADAPTED_DIR / name).is_file():
                raise RecognizerError(f"the adapted speech model is missing ({ADAPTED_DIR / name}); "
                                      f"reinstall footcare with `scripts/setup.sh`")
        return {option: str(ADAPTED_DIR / name) for name, option in ADAPTED_FILES.items()}

    # --- Recognizer protocol ------------------------------------------------------

    def set_grammar(self, grammar: str) -> None:
        if grammar not in self._loaded:
            self._loaded[grammar] = self._build(grammar)
        self.reset()
        self.phrases = self._loaded[grammar]
        self._cmd.activate_search(grammar)
        if self._kws:
            for spotter in self._spotters():
                spotter.activate_search(grammar)
            self._plan = self._plans[grammar]
            self._arbiter = Arbiter(self._plan, urgent=SAFETY_COMMANDS)

    def accept(self, pcm: bytes) -> Hypothesis | None:
        data = self._pending + self._room_tone(pcm)
        n = len(data) - len(data) % self._frame_bytes
        self._pending = data[n:]
        found = None
        for i in range(0, n, self._frame_bytes):
            frame = data[i:i + self._frame_bytes]
            self._recent.append((self._frame_no, frame))
            self._heard.append(frame)
            if self._recording:  # only a recording's utterances may start fresh (_choose_mean)
                self._levels.append(rms(from_pcm(frame)))
            self._frame_no += 1
            speech = self._vad.process(frame)
            self._stream_s += self._vad.frame_length
            hyp = self._frame(speech is not None)
            found = found or hyp
        return found

    def finish(self) -> Hypothesis | None:
        """End of the stream: decide on the utterance still open, if any."""
        self._pending = b""
        return self._end() if self._in_utt else None

    def reset(self) -> None:
        if self._in_utt and not self.settings.batch:
            for decoder in self._decoders():
                decoder.end_utt()
            self._restore_mean()
        self._in_utt = False
        self._pending = b""
        self._utt_audio = []
        self._refused = False
        self._gate.reset()
        if self._arbiter:
            self._arbiter.reset()

    def new_stream(self) -> None:
        """Another recording follows: the voice activity detector and its clock start afresh.
        Without this, a recording whose phrase was decided inside the speech left the detector
        in speech, and the next one was decoded from wherever the detector was, without its onset."""
        self.reset()
        self._vad = self._new_vad()
        self._recent.clear()
        self._heard.clear()
        self._levels.clear()
        self._frame_no = self._next_to_feed = 0
        self._stream_s = 0.0
        self._recording = True

    # --- internals ----------------------------------------------------------------

    def _build(self, grammar: str) -> PhraseSet:
        """Add the grammar's phrases as a weighted word trie; phrases with unknown words are dropped."""
        phrases = phrase_set(self.grammars, grammar)
        pronounceable = lambda p: all(self._pronunciation(w) for w in p.split())  # noqa: E731
        usable = {p: i for p, i in phrases.by_phrase.items() if pronounceable(p)}
        if not usable:
            raise RecognizerError(f"grammar {grammar!r} has no phrase PocketSphinx can pronounce")
        others = {p: i for p, i in other_phrases(self.grammars, grammar).items()
                  if pronounceable(p)} if self.settings.other_phrases else {}
        start, final, transitions = trie_transitions(phrase_priors({**usable, **others}))
        if self._kws:
            self._plans[grammar] = self._add_spotting(grammar, usable, others)
            # a lone word the grammar hears is left to the spotter, so any word may be garbage
            vocabulary = protect = frozenset()
        else:
            vocabulary = frozenset(w for p in [*usable, *others] for w in p.split())
            protect = frozenset(p for p in [*usable, *others] if " " not in p)
        garbage = garbage_words(self._model_dir, self.settings.garbage_words, vocabulary, protect)
        transitions = with_garbage(start, final, transitions, garbage, self.settings.garbage_weight,
                                   self.settings.garbage_second, self.settings.garbage_second_words)
        self._cmd.add_fsg(grammar, self._cmd.create_fsg(grammar, start, final, transitions))
        return PhraseSet(grammar, phrases.intents, usable)

    def _add_spotting(self, grammar: str, usable: dict[str, str], others: dict[str, str]) -> SpottingPlan:
        """A keyphrase search of the grammar's one-word phrases (see spotting.py)."""
        split = plan(usable, others, self._phones, self.settings.rule)
        with tempfile.NamedTemporaryFile("w", suffix=".kws", delete=False) as f:
            f.write(split.kws_file_text())
        try:
            for spotter in self._spotters():
                spotter.add_kws(grammar, f.name)
        finally:
            Path(f.name).unlink()
        return split

    def _pronunciation(self, word: str) -> list[str]:
        """The word's phones in the dictionary (none for a word it lacks)."""
        return (self._cmd.lookup_word(word) or "").split()

    def _phones(self, word: str) -> int:
        return len(self._pronunciation(word))

    def _decoders(self) -> list:
        return [d for d in (self._cmd, self._kws, self._kws_adapted, self._loop) if d is not None]

    def _spotters(self) -> list:
        return [d for d in (self._kws, self._kws_adapted) if d is not None]

    def _frame(self, speech: bool) -> Hypothesis | None:
        """One frame in: the detector says whether it is (a window ago) inside speech.
        The decoders get the frames as they come, not the detector's late copies, so a word
        is heard a window sooner."""
        if not speech:
            return self._end() if self._in_utt and not self._vad.in_speech else None
        if self._in_utt:
            fresh = [self._recent[-1][1]]
        else:
            first = max(round(self._vad.speech_start / self._vad.frame_length), self._next_to_feed)
            fresh = [f for n, f in self._recent if n >= first]
            if not self.settings.batch:
                self._choose_mean(len(fresh))
                self._start()
            self._in_utt, self._utt_frames, self._peak, self._voiced = True, 0, 0.0, 0
            self._utt_audio = []
            self._refused = False
            self._gate.reset()
            if self._arbiter:
                self._arbiter.reset()
        self._next_to_feed = self._frame_no
        for frame in fresh:
            samples = from_pcm(frame)
            self._peak = max(self._peak, rms(samples))
            if self._voiced < MIN_VOICED_FRAMES:  # enough once it is reached: no more FFTs per frame
                self._voiced += periodicity(samples) >= VOICED
            if self.settings.batch:
                self._utt_audio.append(frame)
            else:
                self._process(frame, full_utt=False)
        self._utt_frames += len(fresh)
        if self._utt_frames * self._vad.frame_length >= MAX_UTTERANCE_S:
            return self._end()
        if not self.settings.partials or self.settings.batch or self._gate.fired:
            return None
        if self._plan:
            return self._spotted_partial()
        return self._partial() if self._utt_frames % 3 == 0 else None

    def _partial(self) -> Hypothesis | None:
        text = self._reading()
        now = self._utt_frames * self._vad.frame_length
        if self._gate.update(text, self.phrases.settled(text), now):
            return self._judge(text, final=False)
        return None

    def _spotted_partial(self) -> Hypothesis | None:
        word = self._arbiter.update(self._spotted(), self._kws.n_frames())
        if not self._arbiter.decided:
            return self._spotted_hypothesis(word, final=False)
        self._gate.fired = True  # one decision per utterance
        hyp = self._spotted_hypothesis(word, final=False)
        checked = self._second_opinion(hyp, final=False, word_start_s=self._spotted_start_s(hyp))
        self._refused = hyp is not None and checked is None
        return checked

    def _spotted(self) -> list[Spotted]:
        """Every word the keyphrase searches have reported in this utterance, with its margin (the
        adapted spotter's less its `adapted_margin`; the arbiter takes a word's best)."""
        out = []
        for spotter, word, seg in self._segments():
            margin = math.log(seg.prob) / LOG_BASE + KWS_OFFSET if seg.prob > 0 else SEARCH_FLOOR
            if spotter is self._kws_adapted:
                margin -= self.settings.adapted_margin_overrides.get(word, self.settings.adapted_margin)
            out.append(Spotted(word, seg.end_frame, margin))
        return out

    def _segments(self):
        """(spotter, word, segment) for every word the keyphrase searches reported in this utterance."""
        for spotter in self._spotters():
            for seg in spotter.seg() or []:
                yield spotter, " ".join(seg.word.split()), seg

    def _spotted_start_s(self, hyp: Hypothesis | None) -> float | None:
        """Where the spotted word of `hyp` began, in seconds after the utterance's onset."""
        if hyp is None:
            return None
        starts = [seg.start_frame for _, word, seg in self._segments() if word == hyp.text]
        return min(starts) * SPHINX_FRAME_S if starts else None

    def _spotted_hypothesis(self, word: Keyphrase | None, final: bool) -> Hypothesis | None:
        if word is None or not self._speech_like():
            return None
        confidence = 1.0 / (1.0 + math.exp(-self._arbiter.excess / 100.0))
        return Hypothesis(word.text, word.intent, round(confidence, 3), final, self._utterance_s())

    def _start(self) -> None:
        for decoder in self._decoders():
            decoder.start_utt()

    def _choose_mean(self, onset_frames: int) -> None:
        """In a recording, start the utterance from the model's own cepstral mean when its onset
        (the latest `onset_frames`) stands `fresh_mean_snr_db` above the background (see
        SphinxSettings)."""
        limit = self.settings.fresh_mean_snr_db
        if limit is None or self._kws is None or not onset_frames or len(self._levels) < 5:
            return
        background = max(float(np.percentile(self._levels, 20)), 1e-5)
        onset = max(list(self._levels)[-onset_frames:])
        if 20 * math.log10(onset / background) < limit:
            return
        self._running_means = [(d, d.get_cmn()) for d in self._spotters()]  # the spotters' only: see SphinxSettings
        for spotter in self._spotters():
            spotter.set_cmn(self._initial_mean)

    def _restore_mean(self) -> None:
        """After an utterance started fresh, the spotters' running means go on from where they were."""
        for spotter, mean in self._running_means:
            spotter.set_cmn(mean)
        self._running_means = []

    def _process(self, pcm: bytes, full_utt: bool) -> None:
        for decoder in self._decoders():
            decoder.process_raw(pcm, full_utt=full_utt)

    def _end(self) -> Hypothesis | None:
        if self.settings.batch:  # the whole utterance at once: CMN over this utterance only
            self._start()
            self._process(b"".join(self._utt_audio), full_utt=True)
            self._utt_audio = []
        decided = self._gate.fired and not self._refused  # a partial result acted on this utterance
        garbage = None if decided else self._garbage_reading()  # the search's reading: before end_utt
        for decoder in self._decoders():
            decoder.end_utt()
        self._restore_mean()
        self._in_utt = False
        if decided:
            return None
        return self._second_opinion(self._decide_at_end(garbage), final=True)

    def _garbage_reading(self) -> str | None:
        """The grammar search's best reading of the utterance before it ends (no lattice yet), when
        it is a complete reading with no intent here: garbage words or another state's phrase
        (`SphinxSettings.lattice_only_for_phrases`)."""
        if not self.settings.lattice_only_for_phrases:
            return None
        text = self._reading()
        return text if self._no_intent_here(text) else None

    def _reading(self) -> str:
        """The grammar search's best reading so far ("" for none): before `end_utt` its own
        backtrace, after it the lattice's best path."""
        hyp = self._cmd.hyp()
        return hyp.hypstr if hyp else ""

    def _no_intent_here(self, text: str) -> bool:
        """`text` is a complete reading of the grammar with no intent in this state: garbage
        words or another state's phrase."""
        return (bool(text) and self.phrases.intent_of(text) is None
                and self._cmd.get_fsg(self.phrases.grammar).accept(text))

    def _decide_at_end(self, garbage: str | None) -> Hypothesis | None:
        """PocketSphinx's decision on the utterance just ended; `garbage`: the search's own reading
        of it, which has no intent here (`_garbage_reading`), stands for the lattice's."""
        text = garbage or self._best_phrase()
        if self._plan is None:
            return self._judge(text, final=True)
        seen = self._spotted()
        spotted = self._spotted_hypothesis(self._arbiter.close(seen, self._kws.n_frames()), final=True)
        if text in self._plan.grammar_owned and self._grammar_sure(text):
            phrase = self._judge(text, final=True)
            if spotted is not None and spotted.intent in SAFETY_COMMANDS and (
                    phrase is None or phrase.intent not in SAFETY_COMMANDS):
                return spotted  # a safety word spotted outweighs another kind of phrase, or none
            return phrase
        intent = self.phrases.intent_of(text)
        if spotted is None and intent is not None and self._arbiter.supports(intent, self.settings.slack):
            return self._judge(text, final=True)
        return spotted

    def _second_opinion(self, hyp: Hypothesis | None, final: bool,
                        word_start_s: float | None = None) -> Hypothesis | None:
        """`hyp` as the word check judges it (see SphinxSettings.word_check), in an utterance short
        enough or a word spotted inside a longer one (`word_check_spotted_in_talk`): a word it
        hears where PocketSphinx heard nothing (a "yes" or "no" at two of three speeds,
        `word_check_speeds`); PocketSphinx's "yes" or "no" only if it hears that word too, and its
        "stop" unless it is far from hearing it (`word_check_stop_floor`); where it refuses one of
        its own words, as where PocketSphinx heard nothing (a real "no" taken for "yes"). A safety
        word it hears wins; any other phrase stands unless the check plainly hears a word of
        another intent (`word_check_overrule`) or it is a lone word like one of the check's that
        the check is far from hearing (`word_check_alternate_floor`). A spotted word that began
        `word_start_s` after the onset, later than WORD_AFTER_S, is heard alone, with quiet
        before it: the check learnt single words ("please stop" scored down to -7.5)."""
        check = self._word_check
        own_word = word_start_s is not None and word_start_s > WORD_AFTER_S
        long_ok = own_word and self.settings.word_check_spotted_in_talk
        if check is None or not (long_ok or self._one_word_long()):
            return hyp
        unvoiced = not self._speech_like()
        if unvoiced and (hyp is not None or self.settings.word_check_unvoiced_margin is None or not self._loud()):
            return hyp
        if hyp is not None and hyp.text not in check.words and hyp.intent in SAFETY_COMMANDS:
            return hyp  # "that hurts", "wait": never overruled, so not worth the check's time
        # the spotted word alone, or the utterance from WORD_LEAD_S before its onset
        span_s = self._utterance_s() + (WORD_OWN_LEAD_S - word_start_s if own_word else WORD_LEAD_S)
        frames = round(span_s / self._vad.frame_length)
        heard = from_pcm(b"".join(list(self._heard)[-frames:]))
        # room tone before the word alone as long as the usual lead; else padding for a stream just begun
        pad = round(WORD_LEAD_S * SAMPLE_RATE) if own_word else max(0, frames * self._frame_bytes // 2 - len(heard))
        audio = np.concatenate([_QUIET[:pad], heard, _QUIET[: round(WORD_QUIET_S * SAMPLE_RATE)]])
        margins = {w: m for w, m in check.margins(audio).items() if self.phrases.intent_of(w)}
        if not margins:
            return hyp
        best = max(margins, key=margins.get)
        intent = self.phrases.intent_of(best)
        own = hyp is not None and hyp.text in check.words
        if own and intent in SAFETY_COMMANDS and margins[best] > 0 and best != hyp.text:
            return self._checked_word(best, margins[best], final)
        kept_above = self.settings.word_check_stop_floor if own and hyp.intent in SAFETY_COMMANDS else 0.0
        if own and margins[hyp.text] <= kept_above:
            hyp = None  # refused: as where PocketSphinx heard nothing
        if hyp is None:
            floor = self.settings.word_check_unvoiced_margin if unvoiced else 0.0
            margin = margins[best]
            if margin > floor - STEADY_BELOW and intent not in SAFETY_COMMANDS:  # "stop" as said
                margin = check.steady_margin(audio, best, margin, floor, self.settings.word_check_speeds)
            return self._checked_word(best, margin, final) if margin > floor else None
        if own:
            return hyp
        if intent != hyp.intent and margins[best] >= self.settings.word_check_overrule:
            return self._checked_word(best, margins[best], final)
        return None if self._lone_alternate(hyp, margins) else hyp

    def _lone_alternate(self, hyp: Hypothesis, margins: dict[str, float]) -> bool:
        """`hyp` is a lone word that begins like the check's word of its intent ("nah" and "none"
        like "no", "yup" like "yes") and the check is far from hearing that word
        (`word_check_alternate_floor`). A word of another sound ("okay", "sure") tells the check
        nothing, so it is not judged."""
        if " " in hyp.text:
            return False
        first = self._first_phone(hyp.text)
        words = [w for w in margins
                 if self.phrases.intent_of(w) == hyp.intent and self._first_phone(w) == first]
        return bool(words) and max(margins[w] for w in words) < self.settings.word_check_alternate_floor

    def _first_phone(self, word: str) -> str | None:
        return next(iter(self._pronunciation(word)), None)

    def _one_word_long(self) -> bool:
        """The utterance, or its loud part, is short enough for the word check (see
        SphinxSettings.word_check_max_s and word_check_loud_s)."""
        if self._utterance_s() <= self.settings.word_check_max_s:
            return True
        if self._utterance_s() > WORD_AUDIO_S - WORD_LEAD_S:
            return False  # longer than the audio kept for the check
        frames = self._utterance_frames()
        levels = 20 * np.log10(np.array([rms(from_pcm(f)) for f in frames]) + 1e-6)
        loud = np.nonzero(levels >= max(levels.max() - WORD_PEAK_DB,
                                        np.percentile(levels, 20) + WORD_FLOOR_DB))[0]
        if not len(loud) or loud[0] * self._vad.frame_length < WORD_LOUD_AFTER_S:
            return False
        return (loud[-1] - loud[0] + 1) * self._vad.frame_length <= self.settings.word_check_loud_s

    def _checked_word(self, word: str, margin: float, final: bool) -> Hypothesis:
        """The word check's word as the hypothesis, its margin as a 0..1 confidence."""
        confidence = 1.0 / (1.0 + math.exp(-margin))
        return Hypothesis(word, self.phrases.intent_of(word), round(confidence, 3), final, self._utterance_s())

    def _grammar_sure(self, text: str) -> bool:
        """The grammar's phrase of several words counts (spotting.py, rule 1): no other reading
        among the first n-best ("go" beside "go on"; "carry on now" still reads "carry on"),
        and a spotted word of its intent, if it has one, came close ("louder" in "louder please")."""
        intent = self._plan.phrases.get(text)
        words = text.split()
        for k, alt in enumerate(self._cmd.nbest() or []):
            if k >= self.settings.nbest_agree:
                break
            if alt is not None and self._plan.phrases.get(alt.hypstr) != intent and not _contains(alt.hypstr.split(), words):
                return False
        has_word = any(k.intent == intent and k.text in words for k in self._plan.keyphrases)
        return not has_word or self._arbiter.supports(intent, self.settings.phrase_slack)

    def _best_phrase(self) -> str:
        """The best complete phrase. The search may end inside a longer phrase when a breath
        after the word looks like its next word ("yes it"); the n-best list then holds the
        complete phrase ("yes")."""
        text = self._reading()
        if not text or self.phrases.intent_of(text) is not None or self._no_intent_here(text):
            return text  # a phrase here, or garbage or another state's phrase won: do not look further down
        fsg = self._cmd.get_fsg(self.phrases.grammar)
        for k, alt in enumerate(self._cmd.nbest()):
            if k >= NBEST:
                break
            if alt is not None and fsg.accept(alt.hypstr):
                return alt.hypstr  # the best complete path, a phrase or not
        return text

    def _judge(self, text: str, final: bool) -> Hypothesis | None:
        intent = self.phrases.intent_of(text)
        if intent is None or not self._speech_like() or (
                final and (self._inside_talk(intent) or self._one_nucleus(text, intent))):
            return None
        if self.settings.threshold is None:
            hyp = self._cmd.hyp()
            confidence = hyp.prob if hyp and 0.0 <= hyp.prob <= 1.0 else 0.5
            return Hypothesis(text, intent, round(confidence, 3), final, self._utterance_s())
        ratio = self.last_ratio = self._ratio()
        if ratio is None or ratio < self.settings.threshold:
            return None
        confidence = 1.0 / (1.0 + math.exp(-(ratio - self.settings.threshold) / self.settings.scale))
        return Hypothesis(text, intent, round(confidence, 3), final, self._utterance_s())

    def _inside_talk(self, intent: str) -> bool:
        """The grammar's phrase just decided is a few words inside a much longer utterance, as
        in plain talk (a television, a visitor): its words leave more than `phrase_max_extra_s`
        of the utterance uncovered. A safety phrase is never refused for this."""
        if intent in SAFETY_COMMANDS:
            return False
        words = sum(seg.end_frame - seg.start_frame + 1 for seg in self._cmd.seg() or []
                    if not seg.word.startswith(("<", "[", "+")))
        return self._utterance_s() - words * SPHINX_FRAME_S > self.settings.phrase_max_extra_s

    def _one_nucleus(self, text: str, intent: str) -> bool:
        """The grammar's phrase has `phrase_min_syllables` or more but its utterance shows one
        syllable nucleus: one short word read as a phrase. A safety phrase is never refused for this."""
        least = self.settings.phrase_min_syllables
        if least is None or intent in SAFETY_COMMANDS:
            return False
        if phrase_syllables([self._pronunciation(w) for w in text.split()]) < least:
            return False
        return nuclei(from_pcm(b"".join(self._utterance_frames()))) == 1

    def _utterance_frames(self) -> list[bytes]:
        """The frames of the utterance so far (at most WORD_AUDIO_S of it)."""
        n = round(self._utterance_s() / self._vad.frame_length)
        return list(self._heard)[-n:] if n else []

    def _speech_like(self) -> bool:
        """Loud enough and voiced: see MIN_PEAK_RMS and MIN_VOICED_FRAMES."""
        return self._loud() and self._voiced >= MIN_VOICED_FRAMES

    def _loud(self) -> bool:
        """The utterance's loudest frame reaches MIN_PEAK_RMS."""
        return self._peak >= MIN_PEAK_RMS

    def _utterance_s(self) -> float:
        return round(max(0.0, self._stream_s - self._vad.speech_start), 2)

    def _ratio(self) -> float | None:
        """Per-frame log-likelihood ratio of the grammar path against the phone loop."""
        if self._loop is None:
            return None
        cmd, loop = self._cmd.hyp(), self._loop.hyp()
        frames = self._cmd.n_frames()
        if not cmd or not loop or frames <= 0 or cmd.score <= 0 or loop.score <= 0:
            return None
        log_base = math.log(1.0001)
        return (math.log(cmd.score) - math.log(loop.score)) / log_base / frames


def _contains(words: list[str], part: list[str]) -> bool:
    n = len(part)
    return any(words[i:i + n] == part for i in range(len(words) - n + 1))

