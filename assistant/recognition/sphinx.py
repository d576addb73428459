"""The built-in engine: PocketSphinx with the English model its PyPI wheel ships.

One-word phrases ("stop", "yes", "no") are heard by keyword spotting against a phone loop
(spotting.py), which rejects near-misses ("top", "go") far better than a grammar can.
Longer phrases ("carry on", "not sure") are heard by a grammar; each utterance gets one
decision from the two, which the word check may overrule on "stop", "yes" and "no"
(second_opinion.py). What is tuned, and why, is in sphinx_settings.py.

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
from pathlib import Path

import numpy as np

from assistant.intents import SAFETY_COMMANDS, Grammars
from assistant.recognition.audio import SAMPLE_RATE, RoomTone, from_pcm, periodicity, rms
from assistant.recognition.fsg import phrase_priors, trie_transitions, with_garbage
from assistant.recognition.garbage import garbage_words
from assistant.recognition.phrases import PhraseSet, other_phrases, phrase_set
from assistant.recognition.second_opinion import WORD_AUDIO_S, SecondOpinion, Utterance
from assistant.recognition.sphinx_settings import SphinxSettings
from assistant.recognition.spotting import SEARCH_FLOOR, Arbiter, Keyphrase, Spotted, SpottingPlan, plan
from assistant.recognition.stability import PartialGate
from assistant.recognition.syllables import nuclei, phrase_syllables
from assistant.recognition.types import Hypothesis, RecognizerError
from assistant.recognition import word_check

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
SPHINX_FRAME_S = 0.01
"""PocketSphinx's frame: its segments' start and end frames count these from the onset."""
ADAPTED_DIR = Path(__file__).resolve().parent / "adapted"
"""The acoustic model adapted to real speakers (scripts/adapt_sphinx.py): these files are
loaded over the stock model's of the same names."""
ADAPTED_FILES = {"means": "mean", "variances": "var", "sendump": "sendump", "transition_matrices": "tmat"}
"""The adapted files, each with the PocketSphinx option that loads it."""


def stock_model_dir() -> Path:
    """The English model of the pocketsphinx wheel (`en-us/` with its dictionary and LMs)."""
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us"


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
        self._best_prob: dict[tuple[bool, str], float] = {}
        """Per spotter (adapted or not) and word, its best report in this utterance (`_spotted`)."""
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
        check = word_check.load() if settings.word_check else None
        self._second = SecondOpinion(check, settings, lambda w: self.phrases.intent_of(w),
                                     self._pronunciation) if check else None
        """The word check's second opinion (None without the check)."""
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
        self._forget_utterance()

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

    def _forget_utterance(self) -> None:
        """What was heard and decided in the last utterance goes: the next one starts clean."""
        self._utt_audio = []
        self._refused = False
        self._gate.reset()
        self._best_prob.clear()
        if self._arbiter:
            self._arbiter.reset()

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
            self._forget_utterance()
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
        """The words the keyphrase searches reported in this utterance since the last call, each
        with its margin (the adapted spotter's less its `adapted_margin`), where that margin beats
        the word's best so far from that spotter. The searches report every word again every frame
        (about 200 reports by an utterance's end) and the arbiter keeps only each word's best, so
        the others would change nothing it decides."""
        out = []
        for spotter in self._spotters():
            for seg in spotter.seg() or []:
                key, prob = (spotter is self._kws_adapted, seg.word), seg.prob
                if prob <= self._best_prob.get(key, -1.0):
                    continue
                self._best_prob[key] = prob
                word = " ".join(seg.word.split())
                margin = math.log(prob) / LOG_BASE + KWS_OFFSET if prob > 0 else SEARCH_FLOOR
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
        reading = None if decided else self._reading()  # the search's own reading: before end_utt
        for decoder in self._decoders():
            decoder.end_utt()
        self._restore_mean()
        self._in_utt = False
        if decided:
            return None
        return self._second_opinion(self._decide_at_end(reading), final=True)

    def _reading_stands(self, reading: str, spotted: Hypothesis | None) -> bool:
        """The search's own reading stands for the lattice's (whose best path and posterior cost
        36 ms an utterance clean and 240 ms at 0 dB SNR) where the lattice's could change nothing
        but a phrase of several words (`SphinxSettings.lattice_only_for_phrases`): a complete
        reading with no intent here (garbage words or another state's phrase), or a one-word phrase
        of this state while the spotter has a word (a one-word reading counts only where none is)."""
        if not self.settings.lattice_only_for_phrases:
            return False
        one_word_here = " " not in reading and self.phrases.intent_of(reading) is not None
        return self._no_intent_here(reading) or (spotted is not None and one_word_here)

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

    def _decide_at_end(self, reading: str) -> Hypothesis | None:
        """PocketSphinx's decision on the utterance just ended; `reading`: the search's own best
        reading of it, taken before it ended."""
        spotted = None if self._plan is None else self._spotted_hypothesis(
            self._arbiter.close(self._spotted(), self._kws.n_frames()), final=True)
        text = reading if self._reading_stands(reading, spotted) else self._best_phrase()
        if self._plan is None:
            return self._judge(text, final=True)
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
        """`hyp` as the word check judges it (second_opinion.py), or as it is without the check."""
        if self._second is None:
            return hyp
        return self._second.judge(hyp, final, self._utterance(), word_start_s)

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
        return nuclei(from_pcm(b"".join(self._utterance().frames()))) == 1

    def _utterance(self) -> Utterance:
        """The utterance being decided, as the word check's second opinion sees it."""
        return Utterance(self._utterance_s(), self._heard, self._vad.frame_length, self._speech_like(), self._loud())

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

