"""The built-in engine on real audio: espeak-ng voices, real speakers, real noise."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from assistant.recognition import evaluation as ev
from assistant.recognition.audio import from_pcm, read_wav, to_pcm
from assistant.recognition.files import recognize_pcm

pytestmark = pytest.mark.slow

VOICES = [("en-us", 130), ("en-gb", 170), ("en+f3", 150)]


def heard(recognizer, x: np.ndarray):
    return recognize_pcm(recognizer, ev.pcm(x))


PHRASES = [("stop", "narration", "stop"), ("please stop", "narration", "stop"),
           ("that hurts", "narration", "pain"), ("carry on", "narration", "resume"),
           ("yes please", "answer", "yes"), ("no", "answer", "no")]


def test_espeak_voices_are_understood(sphinx, say):
    """Several voices and rates: most are understood, and a phrase rarely turns into another intent."""
    results = []
    for text, grammar, intent in PHRASES:
        sphinx.set_grammar(grammar)
        for voice, rate in VOICES:
            hyp = heard(sphinx, say(text, voice, rate))
            results.append((text, voice, intent, hyp.intent if hyp else None))
    right = [r for r in results if r[2] == r[3]]
    wrong = [r for r in results if r[3] not in (None, r[2])]
    assert len(right) >= ESPEAK_FLOOR * len(results), results
    assert len(wrong) <= 1, wrong


def test_grammar_decides_what_can_be_heard(sphinx, say):
    yes = say("yes please", "en-gb", 150)
    sphinx.set_grammar("answer")
    assert heard(sphinx, yes).intent == "yes"
    sphinx.set_grammar("narration")  # "yes" is another state's phrase here: dropped, not forced
    assert heard(sphinx, yes) is None


OTHER_SPEECH = ["the weather is lovely today", "banana", "television programme", "a cup of tea with milk",
                "my daughter phoned yesterday", "what a beautiful garden"]


def test_other_speech_rarely_becomes_a_command(sphinx, say):
    sphinx.set_grammar("narration")
    accepted = [(t, heard(sphinx, say(t, "en-us", 150))) for t in OTHER_SPEECH]
    accepted = [(t, h) for t, h in accepted if h is not None]
    assert len(accepted) <= 1, accepted


def test_silence_and_noise_do_not_become_commands(sphinx, quiet_and_noise):
    sphinx.set_grammar("answer")
    for name, x in quiet_and_noise:
        assert heard(sphinx, x) is None, name


def test_background_sounds_without_a_voice_are_not_commands(speech_commands, monkeypatch):
    """The dev set's background clips (a tap, hiss, a fan): a fresh recogniser spots "stop" in
    most of them unless an utterance must be voiced. Checked both ways, so that the clips
    stay ones the check is needed for."""
    import assistant.recognition.sphinx as engine
    from assistant.recognition.files import recognize_file

    def commands(settings: engine.SphinxSettings = engine.SphinxSettings()) -> list[str]:
        found = []
        for path in ev.clips("_silence_"):
            recognizer = engine.SphinxRecognizer(settings=settings)  # fresh: no mean learnt from earlier clips
            recognizer.set_grammar("answer")
            if recognize_file(recognizer, path).hypothesis is not None:
                found.append(path.name)
        return found

    assert commands() == []
    monkeypatch.setattr(engine, "MIN_VOICED_FRAMES", 0)
    assert len(commands(engine.SphinxSettings(word_check=False))) >= 3  # the word check refuses most too


def test_whole_utterances_do_not_depend_on_what_came_before(sphinx_whole, speech_commands, noise_dir):
    """Batch CMN normalises each utterance by itself: the same clip gives the same phrase
    whatever was decoded before it (live CMN carries the previous sounds' mean over). The
    noise-removal estimate still carries over, so the confidence may differ a little."""
    sphinx_whole.set_grammar("answer")
    nrng = np.random.default_rng(3)
    clip = ev.pad(from_pcm(read_wav(ev.clips("yes")[0])), rng=nrng)
    loud = ev.mix(ev.pad(from_pcm(read_wav(ev.clips("_unknown_")[0])), rng=nrng), ev.load_noise("exercise_bike"), 0, nrng)
    first = heard(sphinx_whole, clip)
    heard(sphinx_whole, loud)
    again = heard(sphinx_whole, clip)
    assert first is not None and again is not None and first.text == again.text == "yes", (first, again)


def test_a_command_is_heard_before_the_stream_ends(sphinx, say, stream):
    """A command followed by a long stretch of room tone is reported as soon as it is certain."""
    sphinx.set_grammar("narration")
    hyp, at_s = stream(sphinx, np.concatenate([say("stop", "en-us", 150), ev.pad(np.zeros(16000 * 4, np.float32))]))
    assert hyp is not None and hyp.intent == "stop", hyp
    assert at_s < 3.0, f"heard only after {at_s:.1f} s of a 5 s stream"


def test_stop_is_acted_on_as_the_word_ends(sphinx, speech_commands):
    """Real speakers' "stop" is decided within 0.2 s (median) of the end of the word, in audio
    time: the decoders are fed as audio comes, not a voice-detector window later, and a
    safety command does not wait for a better reading (before: 0.48 s)."""
    sphinx.set_grammar("narration")
    late = []
    for path in [p for p in ev.clips("stop") if ev.held_out(p)][:15]:
        x = from_pcm(read_wav(path))
        level = np.sqrt(np.mean(x[: len(x) // 160 * 160].reshape(-1, 160) ** 2, axis=1))
        word_end = 0.3 + (np.flatnonzero(level > level.max() * 10 ** (-30 / 20))[-1] + 1) * 0.01
        pcm = ev.pcm(ev.pad(x, after_s=1.5))  # `pad` leads with 0.3 s of room tone
        sphinx.reset()
        for i in range(0, len(pcm), 320):  # 10 ms at a time: the decision time to the frame
            if hyp := sphinx.accept(pcm[i:i + 320]):
                if hyp.intent == "stop":
                    late.append((i + 320) / 32000 - word_end)
                break
        sphinx.finish()
    assert len(late) >= 10, late
    assert np.median(late) <= 0.2, sorted(round(t, 2) for t in late)


def test_each_recording_is_decoded_from_its_own_onset(sphinx, say):
    """A recording whose phrase is decided inside the word leaves the voice detector in
    speech; the next recording must still start its utterance where its own speech does."""
    sphinx.set_grammar("narration")
    pcm = ev.pcm(say("stop", "en-us", 150))
    first, second = recognize_pcm(sphinx, pcm), recognize_pcm(sphinx, pcm)
    assert first is not None and second is not None and second.intent == "stop", (first, second)
    assert first.final is False  # decided inside the speech: the case this is about
    assert abs(second.utterance_s - first.utterance_s) < 0.1, (first, second)


def test_a_clear_utterance_starts_from_the_models_mean_and_noise_keeps_the_running_one(say, noise_dir):
    """The spotter's running cepstral mean goes on through a clear utterance untouched (that
    one was decoded from the model's own mean), and learns from one heard in noise."""
    from assistant.recognition.sphinx import SphinxRecognizer

    recognizer = SphinxRecognizer()
    recognizer.set_grammar("narration")
    clear = say("please stop", "en-gb", 150)
    noisy = ev.mix(clear, ev.load_noise("running_tap"), 10, np.random.default_rng(0))
    mean = lambda: recognizer._kws.get_cmn(True)  # noqa: E731 (True: with what it has taken in)
    recognize_pcm(recognizer, ev.pcm(noisy))
    before = mean()
    recognize_pcm(recognizer, ev.pcm(clear))
    assert mean() == before
    recognize_pcm(recognizer, ev.pcm(noisy))
    assert mean() != before


def test_a_live_stream_keeps_learning_its_running_mean(say, noise_dir):
    """Live, one microphone and one user: a clear utterance is decoded with the running mean
    and teaches it (only recordings start clear utterances from the model's mean)."""
    from assistant.recognition.sphinx import SphinxRecognizer

    recognizer = SphinxRecognizer()
    recognizer.set_grammar("narration")
    clear = say("please stop", "en-gb", 150)
    noisy = ev.mix(clear, ev.load_noise("running_tap"), 10, np.random.default_rng(0))
    mean = lambda: recognizer._kws.get_cmn(True)  # noqa: E731
    for x in (noisy, clear):
        before = mean()
        pcm = ev.pcm(np.concatenate([x, ev.pad(np.zeros(8000, np.float32))]))
        for i in range(0, len(pcm), 3200):
            recognizer.accept(pcm[i:i + 3200])
        assert mean() != before


def test_each_command_in_a_long_stream_is_heard(sphinx, say):
    """A live stream holds many utterances: the second command counts as much as the first, and
    each says where it began (the live loop tells the user's words from its own by that)."""
    sphinx.set_grammar("narration")
    gap = ev.pad(np.zeros(16000 * 3, np.float32))  # exact zeros, as a closed echo gate gives
    parts, onsets = [gap], []
    for text, voice, rate in [("stop", "en-us", 150), ("carry on", "en-us", 150), ("stop", "en-gb", 170)]:
        onsets.append(sum(map(len, parts)) / 16000 + 0.3)  # `say` leads with 0.3 s of room tone
        parts += [say(text, voice, rate), gap]
    pcm = ev.pcm(np.concatenate(parts))
    sphinx.reset()
    found = []
    for i in range(0, len(pcm), 3200):
        if hyp := sphinx.accept(pcm[i:i + 3200]):
            found.append((hyp.intent, round((i + 3200) / 32000 - hyp.utterance_s, 1)))
    assert [intent for intent, _ in found] == ["stop", "resume", "stop"], found
    assert all(abs(began - onset) < 0.3 for (_, began), onset in zip(found, onsets)), (found, onsets)


@pytest.mark.parametrize("mode", ["streaming", "whole"])
def test_real_speakers_clean_and_in_noise(mode, sphinx, sphinx_whole, speech_commands, noise_dir):
    """Held-out dev speakers: most 'stop's are heard, few other words become commands."""
    sphinx = sphinx if mode == "streaming" else sphinx_whole
    recall_floor, noisy_floor = FLOORS[mode]
    rng = random.Random(7)
    nrng = np.random.default_rng(7)
    sphinx.set_grammar("answer")
    stops = rng.sample([p for p in ev.clips("stop") if ev.held_out(p)], 40)
    others = rng.sample([p for p in ev.clips("_unknown_") if ev.held_out(p)], 40)
    noise = ev.load_noise("running_tap")
    clean = [heard(sphinx, ev.pad(from_pcm(read_wav(p)), rng=nrng)) for p in stops]
    noisy = [heard(sphinx, ev.mix(ev.pad(from_pcm(read_wav(p)), rng=nrng), noise, 10, nrng)) for p in stops]
    false = [heard(sphinx, ev.pad(from_pcm(read_wav(p)), rng=nrng)) for p in others]
    recall = sum(h is not None and h.intent == "stop" for h in clean) / len(clean)
    recall_noisy = sum(h is not None and h.intent == "stop" for h in noisy) / len(noisy)
    accepts = sum(h is not None for h in false) / len(false)
    print(f"recall {recall:.2f}, at 10 dB {recall_noisy:.2f}, other words accepted {accepts:.2f}")
    assert recall >= recall_floor, recall
    assert recall_noisy >= noisy_floor, recall_noisy
    assert accepts <= FALSE_ACCEPT_CEILING, accepts


# Regression floors below what docs/BENCHMARKS.md measures for the held-out speakers
# (streaming: clean stop 81%, 10 dB 33-67%, other words 8%; whole utterances: see there);
# with 40 clips one clip is 2.5%.
# They guard against breakage; they are NOT the targets, which are not met yet.
ESPEAK_FLOOR = 0.3
FLOORS = {"streaming": (0.6, 0.2), "whole": (0.6, 0.2)}  # (clean recall, 10 dB recall)
FALSE_ACCEPT_CEILING = 0.15


def test_i_dont_know_is_never_heard_as_no(sphinx, say):
    """"I don't know" holds "no" ("i don't", "know"): it must never answer a safety question no."""
    sphinx.set_grammar("answer")
    hyps = [heard(sphinx, say("i don't know", voice, rate)) for voice, rate in VOICES]
    heard_as = [getattr(h, "intent", None) for h in hyps]
    assert "no" not in heard_as, heard_as
    assert "unsure" in heard_as, heard_as


def test_the_adapted_spotter_hears_held_out_speakers_better_than_the_stock_one(speech_commands):
    """The adaptation (scripts/adapt_sphinx.py) learnt only the `tune` half of the speakers; on
    the other half the second spotter with it hears "no", the word the stock model misses most,
    more often (measured: 23 -> 29 of 40), and takes other words no more often for commands."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    rng = random.Random(11)
    nrng = np.random.default_rng(11)
    noes = rng.sample([p for p in ev.clips("no") if ev.held_out(p)], 40)
    others = rng.sample([p for p in ev.clips("_unknown_") + ev.clips("go") if ev.held_out(p)], 40)
    audio = {p: ev.pad(from_pcm(read_wav(p)), rng=nrng) for p in noes + others}
    found = {}
    for adapted in (False, True):
        recognizer = SphinxRecognizer(settings=SphinxSettings(adapted_spotter=adapted, word_check=False))
        recognizer.set_grammar("answer")
        hyps = {p: heard(recognizer, audio[p]) for p in noes + others}
        found[adapted] = (sum(getattr(hyps[p], "intent", None) == "no" for p in noes),
                          sum(hyps[p] is not None for p in others))
    (stock_no, stock_false), (adapted_no, adapted_false) = found[False], found[True]
    print(f"'no' heard: stock {stock_no}/40, adapted {adapted_no}/40; "
          f"other words taken: stock {stock_false}/40, adapted {adapted_false}/40")
    assert adapted_no >= stock_no + 6, found
    assert adapted_false <= stock_false, found


def test_the_word_check_hears_held_out_speakers_answers_and_takes_fewer_other_words(speech_commands):
    """The word check (word_check.py) learnt only the `tune` speakers; on the others it hears their
    "no" and "yes" more often than PocketSphinx alone, and takes near-miss words ("go", "off",
    "up"...) less often."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    rng = random.Random(12)
    nrng = np.random.default_rng(12)
    answers = {p: w for w in ("no", "yes") for p in rng.sample([p for p in ev.clips(w) if ev.held_out(p)], 30)}
    near = [p for w in ("go", "off", "on", "up", "down", "left", "right") for p in ev.clips(w)]
    others = rng.sample([p for p in near if ev.held_out(p)], 60)
    audio = {p: ev.pad(from_pcm(read_wav(p)), rng=nrng) for p in [*answers, *others]}
    found = {}
    for checked in (False, True):
        recognizer = SphinxRecognizer(settings=SphinxSettings(word_check=checked))
        recognizer.set_grammar("answer")
        hyps = {p: heard(recognizer, audio[p]) for p in audio}
        found[checked] = (sum(getattr(hyps[p], "intent", None) == w for p, w in answers.items()),
                          sum(hyps[p] is not None for p in others))
    print(f"answers heard (of 60), near-miss words taken (of 60): alone {found[False]}, checked {found[True]}")
    assert found[True][0] >= found[False][0] + 6, found
    assert found[True][1] < found[False][1], found


def test_the_adapted_spotter_can_listen_alone(speech_commands):
    """`stock_spotter=False` (measured in docs/BENCHMARKS.md, not the default): one spotter, with
    the adapted model, hears held-out speakers' "stop" and "no" without the word check."""
    from assistant.recognition.sphinx import ADAPTED_DIR, SphinxRecognizer, SphinxSettings

    recognizer = SphinxRecognizer(settings=SphinxSettings(stock_spotter=False, word_check=False))
    recognizer.set_grammar("answer")
    assert [s.config["mean"] for s in recognizer._spotters()] == [str(ADAPTED_DIR / "means")]
    rng = random.Random(14)
    nrng = np.random.default_rng(14)
    clips = {w: rng.sample([p for p in ev.clips(w) if ev.held_out(p)], 10) for w in ("stop", "no")}
    found = {w: sum(getattr(heard(recognizer, ev.pad(from_pcm(read_wav(p)), rng=nrng)), "intent", None) == w
                    for p in paths) for w, paths in clips.items()}
    print(found)
    assert found["stop"] >= 8 and found["no"] >= 6, found


def test_a_missing_adapted_model_file_says_how_to_fix_it(tmp_path, monkeypatch):
    from assistant.recognition import sphinx as engine
    from assistant.recognition.types import RecognizerError

    for name in list(engine.ADAPTED_FILES)[1:]:  # all but the means
        (tmp_path / name).write_bytes((engine.ADAPTED_DIR / name).read_bytes())
    monkeypatch.setattr(engine, "ADAPTED_DIR", tmp_path)
    with pytest.raises(RecognizerError, match=r"adapted speech model is missing .*means.*setup\.sh"):
        engine.SphinxRecognizer()  # the adapted spotter is the default


def test_a_word_the_check_plainly_hears_overrules_another_intents_phrase(speech_commands):
    """Real speakers' "stop" and "no" that PocketSphinx took for "please go on", "go on" and
    "yes", each after the ten clips before it (its running cepstral mean learnt from them, as in
    the benchmark): the word check hears them plainly (margins 7-18), and its word wins, also
    over PocketSphinx's "yes", which the check refuses. (Without the rule, the syllable rule is
    off too: it refuses "please go on" from one syllable, after which the check alone hears the
    "stop".)"""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    clips = {"stop/4fd1443e_nohash_3": "stop", "stop/ca4d5368_nohash_3": "stop",
             "no/37dca74f_nohash_1": "no", "no/ca4d5368_nohash_5": "no", "no/e0c782d5_nohash_0": "no"}
    found = {}
    default_settings = SphinxSettings()
    for overrule, least in ((float("inf"), None),
                            (default_settings.word_check_overrule, default_settings.phrase_min_syllables)):
        recognizer = SphinxRecognizer(settings=SphinxSettings(word_check_overrule=overrule,
                                                              phrase_min_syllables=least))
        recognizer.set_grammar("answer")
        found[overrule] = {}
        for clip in clips:
            files = sorted((speech_commands / clip.split("/")[0]).glob("*.wav"))
            i = [f.stem for f in files].index(clip.split("/")[1])
            for before in files[i - 10 : i]:
                heard(recognizer, ev.pad(from_pcm(read_wav(before))))
            hyp = heard(recognizer, ev.pad(from_pcm(read_wav(files[i]))))
            found[overrule][clip] = hyp.intent if hyp else None
    never, default = found.values()
    assert default == clips, found
    assert sum(never[c] != clips[c] for c in clips) >= 2, found  # without the rule: PocketSphinx's phrase


def test_please_stop_is_decided_at_the_stop_not_at_the_end(sphinx, say):
    """The word check learnt single words: hearing "please" too, it once scored the spotted "stop"
    -7.5 and vetoed it, and the phrase was decided only after the utterance ended (at a
    confidence refused over our voice). It now hears the spotted word alone."""
    sphinx.set_grammar("narration")
    hyps = [heard(sphinx, say("please stop", voice, rate))
            for voice in ("en-us+klatt2", "en-us+klatt3", "en-us+m2", "en-us+f1") for rate in (100, 115, 140)]
    assert all(h is not None and h.intent == "stop" and not h.final for h in hyps), hyps


def test_stop_phrases_in_voices_unlike_the_dev_speakers_are_heard_at_the_stop(say):
    """Why the stock model's spotter listens beside the adapted one (`SphinxSettings.stock_spotter`):
    the adapted model learnt the dev set's `tune` speakers, and voices unlike them are heard at
    their "stop" by the stock one. Forty takes in a row (the running mean carries on, as in a
    session): both spotters hear all 40 as "stop", 38 at the "stop"; the adapted spotter alone 33,
    10 at the "stop", and seven not at all (docs/BENCHMARKS.md, Recognition, twenty-seventh round)."""
    from assistant.recognition.sphinx import SphinxRecognizer

    recognizer = SphinxRecognizer()
    recognizer.set_grammar("narration")
    takes = [(text, voice, rate) for text in ("stop", "stop it now", "stop that", "stop everything")
             for voice in ("en-us+m2", "en-us+f1", "en-us+klatt2", "en-us+m4", "en-us+f4") for rate in (100, 140)]
    hyps = {take: heard(recognizer, say(*take)) for take in takes}
    stops = [h for h in hyps.values() if h is not None and h.intent == "stop"]
    print(f"{len(stops)} of {len(takes)} heard as stop, {sum(not h.final for h in stops)} at the stop")
    assert len(stops) >= 38, {t: h for t, h in hyps.items() if h not in stops}
    assert sum(not h.final for h in stops) >= 35, hyps


def test_a_word_in_noise_that_began_with_the_recording_is_still_checked(speech_commands, noise_dir):
    """Noise from the recording's start puts the detector's onset at 0 s, and the utterance runs
    the whole padded clip (1.8 s), longer than a word the check may judge: its loud part, one
    word long, lets the check judge it (held-out speakers at 10 dB, pooled over the four noises:
    yes 72 -> 90%, no 53 -> 71% in the benchmark). Without `word_check_long_margin`, which
    would otherwise hear some of the same words where the loud part is off."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    rng = random.Random(13)
    nrng = np.random.default_rng(13)
    noise = ev.load_noise("doing_the_dishes")
    answers = {p: w for w in ("yes", "no") for p in rng.sample([p for p in ev.clips(w) if ev.held_out(p)], 15)}
    audio = {p: ev.mix(ev.pad(from_pcm(read_wav(p)), rng=nrng), noise, 10, nrng) for p in answers}
    found = {}
    for loud_s in (0, SphinxSettings().word_check_loud_s):
        recognizer = SphinxRecognizer(settings=SphinxSettings(word_check_loud_s=loud_s, word_check_long_margin=None))
        recognizer.set_grammar("answer")
        found[loud_s] = sum(getattr(heard(recognizer, x), "intent", None) == answers[p] for p, x in audio.items())
    print(f"answers heard at 10 dB (of 30): utterance length only {found[0]}, loud part {found[max(found)]}")
    never, default = found.values()
    assert default >= never + 4, found


def test_a_word_plainly_heard_in_an_utterance_too_long_to_check_counts(speech_commands, noise_dir):
    """In noise that starts with the recording the utterance can run the whole padded clip with
    a loud part longer than a word; where PocketSphinx hears nothing there, the check's word
    still counts at `word_check_long_margin`. Held-out answers gain; other words at the same
    noise are taken no more often (their margins there stayed at 2.0 or below). Measured: answers
    27 -> 29 of 40, other words 0 -> 0 of 40."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    rng = random.Random(29)
    nrng = np.random.default_rng(29)
    noise = ev.load_noise("doing_the_dishes")
    held = {w: [p for p in ev.clips(w) if ev.held_out(p)] for w in ("yes", "no", *ev.NEAR_MISS_WORDS, "_unknown_")}
    answers = {p: w for w in ("yes", "no") for p in rng.sample(held[w], 20)}
    others = rng.sample([p for w in (*ev.NEAR_MISS_WORDS, "_unknown_") for p in held[w]], 40)
    audio = {p: ev.mix(ev.pad(from_pcm(read_wav(p)), rng=nrng), noise, 10, nrng) for p in [*answers, *others]}
    found, taken = {}, {}
    for margin in (None, SphinxSettings().word_check_long_margin):
        recognizer = SphinxRecognizer(settings=SphinxSettings(word_check_long_margin=margin))
        recognizer.set_grammar("answer")
        hyps = {p: heard(recognizer, x) for p, x in audio.items()}
        found[margin] = sum(getattr(hyps[p], "intent", None) == w for p, w in answers.items())
        taken[margin] = sum(hyps[p] is not None for p in others)
    print(f"at 10 dB, answers heard of 40: {found}; other words taken of 40: {taken}")
    (off, on), (taken_off, taken_on) = found.values(), taken.values()
    assert on >= off + 2, found
    assert taken_on <= taken_off, taken


def test_a_quiet_recording_is_heard_as_well_as_at_its_own_level(sphinx, speech_commands, tmp_path, monkeypatch):
    """Real speakers' words, each heard right at its own level, saved 30 dB quieter (speech
    near -53 dBFS: a far or low-gain microphone). `footcare recognize` raises such a file before
    decoding; checked both ways, so that these stay clips the raise is needed for (measured:
    23 and 12 of 24)."""
    import wave

    import assistant.recognition.files as files

    sphinx.set_grammar("answer")
    chosen = []
    for word in ev.TARGET_WORDS:
        right = (p for p in ev.clips(word) if ev.held_out(p)
                 and (h := files.recognize_file(sphinx, p).hypothesis) and h.intent == word)
        chosen += [(word, p) for _, p in zip(range(8), right)]
    for word, path in chosen:
        with wave.open(str(tmp_path / f"{word}_{path.name}"), "wb") as w:
            w.setnchannels(1), w.setsampwidth(2), w.setframerate(16000)
            w.writeframes(to_pcm(from_pcm(read_wav(path)) * 10 ** (-30 / 20)))

    def heard_right() -> int:
        hyps = [(word, files.recognize_file(sphinx, tmp_path / f"{word}_{p.name}").hypothesis) for word, p in chosen]
        return sum(1 for word, h in hyps if h is not None and h.intent == word)

    assert len(chosen) == 24
    assert heard_right() >= 21
    monkeypatch.setattr(files, "raised_if_quiet", lambda pcm, rate: pcm)
    assert heard_right() <= 18


def test_a_phrase_the_grammar_is_sure_of_needs_the_spotter_only_to_come_near(say):
    """Phrases whose first n-best readings all agree, where the spotter heard their word ("help"
    in "help please") only faintly: asked to come within 600 of its threshold, the spotter
    refused at least half of these; within `phrase_slack` they count."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    takes = {("help please", "en-us", 160): "help", ("please help me please", "en-us+m3", 160): "help",
             ("next step", "en+m1", 120): "skip", ("now please next step", "en+m1", 160): "skip",
             ("pardon please", "en-us", 120): "repeat", ("what did you say", "en-us", 160): "repeat"}
    found = {}
    for slack in (600.0, SphinxSettings().phrase_slack):
        recognizer = SphinxRecognizer(settings=SphinxSettings(phrase_slack=slack))
        recognizer.set_grammar("answer")
        found[slack] = {take: hyp.intent if (hyp := heard(recognizer, say(*take))) else None for take in takes}
    narrow, default = found.values()
    assert default == takes
    assert sum(narrow[take] is None for take in takes) >= 3, narrow


def test_plain_talk_gives_no_answer_and_no_comfort_command(say):
    """Ten-word stretches of the guide without a command word, read by two espeak-ng voices (as a
    television or a visitor would talk): the grammar found phrases in them ("ok please", "what are
    the options", "too loud please") whose words covered a small part of the utterance: 6 of the
    54 takes gave an answer or a comfort command before those were refused, 1 since. A safety
    command may still come out (a false "stop" is safe, a lost one is not)."""
    from assistant.intents import SAFETY_COMMANDS
    from assistant.recognition.sphinx import SphinxRecognizer

    stretches = ev.plain_talk(27)
    if not stretches:
        pytest.skip("the guide is not in shared/source")
    recognizer = SphinxRecognizer()
    recognizer.set_grammar("answer")
    found = [(text, hyp.text) for text in stretches for voice, rate in ev.TALK_VOICES
             if (hyp := heard(recognizer, say(text, voice, rate))) and hyp.intent not in SAFETY_COMMANDS]
    assert len(found) <= 2, found


def test_a_spotted_safety_word_outweighs_another_kind_of_phrase(speech_commands):
    """Decoding whole utterances, the grammar took these real "stop"s for phrases of other intents
    ("repeat that", "let's go", "talk slower", "too slow") while the spotter heard "stop": the
    safety word wins (a false "stop" is safe, a lost one is not)."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    recognizer = SphinxRecognizer(settings=SphinxSettings(batch=True))
    recognizer.set_grammar("answer")
    clips = ["37fc5d97_nohash_2", "5e3dde6b_nohash_1", "5e3dde6b_nohash_4", "c7dc7278_nohash_1"]
    found = {clip: heard(recognizer, ev.pad(from_pcm(read_wav(speech_commands / "stop" / f"{clip}.wav"))))
             for clip in clips}
    assert {clip: hyp.intent if hyp else None for clip, hyp in found.items()} == dict.fromkeys(clips, "stop"), found


def test_a_lone_yup_nah_or_none_needs_the_check_not_far_from_yes_or_no(speech_commands):
    """Real other words PocketSphinx took for a lone "yup", "nah" or "none" (a false "no" to "is
    any skin broken?" would let the massage go on): the word check is far from hearing "yes" or
    "no" in them (-4.2 to -6.4), and they are refused. Real "yes" and "no" read as "yep", "nope"
    or "nah" score 4.9 to 14.0 and are kept."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    others = ("go/8ea6dec6_nohash_0", "_unknown_/nine_24ad3ebe_nohash_0", "_unknown_/nine_e49428d9_nohash_0")
    answers = {"yes/a80f9f53_nohash_0": "yes", "no/c7dc7278_nohash_3": "no", "no/cd85758f_nohash_1": "no",
               "no/fdb5155e_nohash_0": "no"}
    found = {}
    for floor in (-math.inf, SphinxSettings().word_check_alternate_floor):
        found[floor] = {}
        for clip in (*others, *answers):
            recognizer = SphinxRecognizer(settings=SphinxSettings(word_check_alternate_floor=floor))
            recognizer.set_grammar("answer")  # a fresh one each: no running mean learnt from the others
            found[floor][clip] = heard(recognizer, ev.pad(from_pcm(read_wav(speech_commands / f"{clip}.wav"))))
    never, default = found.values()
    assert all(never[c] is not None and never[c].text in ("yup", "nah", "none") for c in others), never
    assert all(default[c] is None for c in others), default
    assert {c: getattr(default[c], "intent", None) for c in answers} == answers, default
    assert [default[c].text for c in answers] == ["yep", "nope", "nah", "nope"], default


def test_a_stop_spotted_inside_long_talk_is_judged_by_the_check(say, speech_commands):
    """A "stop" the spotter finds inside plain talk (the guide without a command word, as a
    television would say it) acted at once: no check judged words in utterances that long. Now
    the check hears the spotted word too, and refuses most of them (7 of the first 32 takes
    before, 2 since), while real "stop"s after two seconds of talk are heard as before."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    talk = ev.plain_talk(16)
    if not talk:
        pytest.skip("the guide is not in shared/source")
    rng = np.random.default_rng(5)
    stops = [p for p in ev.clips("stop") if ev.held_out(p)][::6]
    before = [say(talk[k % len(talk)])[:32000] for k in range(len(stops))]
    found = {}
    for judged in (False, True):
        recognizer = SphinxRecognizer(settings=SphinxSettings(word_check_spotted_in_talk=judged))
        recognizer.set_grammar("answer")
        in_talk = [heard(recognizer, say(text, voice, rate)) for text in talk for voice, rate in ev.TALK_VOICES]
        after_talk = [heard(recognizer, ev.pad(np.concatenate([_as_loud_as(b, x), x]), rng=rng))
                      for b, x in zip(before, (from_pcm(read_wav(p)) for p in stops))]
        found[judged] = (sum(h is not None and h.text == "stop" for h in in_talk),
                         sum(h is not None and h.intent == "stop" for h in after_talk))
    print(f"'stop' in 32 talk takes, real 'stop's after talk heard (of {len(stops)}): {found}")
    assert found[True][0] <= found[False][0] // 2, found
    assert found[True][1] >= found[False][1] >= len(stops) - 2, found


def test_a_stop_without_enough_voicing_is_heard_when_the_check_hears_it_plainly(speech_commands, noise_dir):
    """Real "stop"s that fail the voicing test (fewer than two voiced frames: two speakers even
    clean, one in a running tap) were lost although the word check hears them plainly; noise
    alone, which is why utterances must be voiced, still gives nothing."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    tap = ev.load_noise("running_tap")
    takes = {"5f814c23_nohash_0": None, "37dca74f_nohash_0": None, "a2473d62_nohash_1": tap}
    found = {}
    for margin in (None, SphinxSettings().word_check_unvoiced_margin):
        found[margin] = []
        for clip, noise in takes.items():
            recognizer = SphinxRecognizer(settings=SphinxSettings(word_check_unvoiced_margin=margin))
            recognizer.set_grammar("answer")  # fresh: no running mean learnt from the others
            rng = np.random.default_rng(1)
            x = ev.pad(from_pcm(read_wav(speech_commands / "stop" / f"{clip}.wav")), rng=rng)
            hyp = heard(recognizer, x if noise is None else ev.mix(x, noise, 10.0, rng))
            found[margin].append(hyp.intent if hyp else None)
    assert found[None] == [None] * 3, found
    assert found[SphinxSettings().word_check_unvoiced_margin] == ["stop"] * 3, found
    recognizer = SphinxRecognizer()
    recognizer.set_grammar("answer")
    alone = [heard(recognizer, noise[start:start + 24000]) for noise in map(ev.load_noise, ev.noise_names())
             for start in range(0, 10 * 96000, 96000)]
    assert [h for h in alone if h is not None] == []


def test_a_refused_yes_leaves_the_check_free_to_hear_no(speech_commands):
    """A real "no" in a running tap that PocketSphinx took for "yes": the check refuses the "yes"
    (-4.8) and hears "no" (1.6), above its threshold but below the overrule's 5. A refused word
    is as good as nothing heard, where the check's "no" above 0 would count."""
    from assistant.recognition.sphinx import SphinxRecognizer

    recognizer = SphinxRecognizer()
    recognizer.set_grammar("answer")
    rng = np.random.default_rng(5)
    x = ev.pad(from_pcm(read_wav(speech_commands / "no" / "b83c1acf_nohash_1.wav")), rng=rng)
    hyp = heard(recognizer, ev.mix(x, ev.load_noise("running_tap"), 10.0, rng))
    assert hyp is not None and hyp.intent == "no", hyp


def _as_loud_as(x: np.ndarray, other: np.ndarray) -> np.ndarray:
    """`x` scaled to the speech power of `other`."""
    return x * np.sqrt(ev.speech_power(other) / ev.speech_power(x))


def test_the_check_alone_hears_a_yes_or_no_by_its_margins_at_three_speeds(speech_commands):
    """Real other words PocketSphinx heard nothing in, that the check alone took for "no" and
    "yes" at margins 0.2-1.3 ("nine", "left", "house"): played 8% slower or faster, the check no
    longer hears them, and they are refused. Real answers it alone hears at margins as low
    (0.05-2.3) stay heard at two of the three speeds and are kept; real answers it just missed
    as said are heard at two of three. A "stop" heard as said is kept ("dog"): a lost one is not
    safe."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    others = {"_unknown_/nine_b1f8326d_nohash_1": "no", "left/692a88e6_nohash_5": "yes",
              "_unknown_/house_6e916de8_nohash_0": "yes"}
    answers = {"yes/3d86b69a_nohash_1": "yes", "yes/3d86b69a_nohash_3": "yes", "no/3d86b69a_nohash_2": "no",
               "no/3d86b69a_nohash_3": "no", "no/3d86b69a_nohash_4": "no", "_unknown_/dog_2c6d3924_nohash_2": "stop"}
    missed = {"no/3d86b69a_nohash_0": "no", "no/9a7c1f83_nohash_0": "no", "yes/9a7c1f83_nohash_2": "yes"}
    found = {}
    for speeds in ((), SphinxSettings().word_check_speeds):
        found[speeds] = {}
        for clip in (*others, *answers, *missed):
            recognizer = SphinxRecognizer(settings=SphinxSettings(word_check_speeds=speeds))
            recognizer.set_grammar("answer")  # a fresh one each: no running mean learnt from the others
            hyp = heard(recognizer, ev.pad(from_pcm(read_wav(speech_commands / f"{clip}.wav"))))
            found[speeds][clip] = hyp.intent if hyp else None
    as_said, steady = found.values()
    assert {c: as_said[c] for c in others} == others, as_said
    assert {c: steady[c] for c in others} == dict.fromkeys(others), steady
    assert {c: as_said[c] for c in answers} == {c: steady[c] for c in answers} == answers, found
    assert {c: as_said[c] for c in missed} == dict.fromkeys(missed), as_said
    assert {c: steady[c] for c in missed} == missed, steady


def test_a_margin_well_above_the_floor_stands_without_the_speeds(speech_commands, noise_dir, monkeypatch):
    """A held-out "no" with the cat at 10 dB (the benchmark's take: its noise and padding drawn
    with seed 1070), where PocketSphinx hears nothing: the check hears it as said at 4.2, far above
    where a chance likeness was ever heard, but not at the other two speeds (-1.1 at the median).
    Only margins within STEADY_ABOVE of the floor are tried at three speeds, so it is heard; the
    other words the speeds refuse, at 0.2-1.3, stay refused (the test above)."""
    from assistant.recognition import second_opinion
    from assistant.recognition.sphinx import SphinxRecognizer

    rng = np.random.default_rng(1070)
    clip = from_pcm(read_wav(speech_commands / "no" / "c22d3f18_nohash_3.wav"))
    x = ev.mix(ev.pad(clip, rng=rng), ev.load_noise("dude_miaowing"), 10, rng)
    found = {}
    for above in (math.inf, second_opinion.STEADY_ABOVE):
        monkeypatch.setattr(second_opinion, "STEADY_ABOVE", above)
        recognizer = SphinxRecognizer()
        recognizer.set_grammar("answer")
        found[above] = getattr(heard(recognizer, x), "intent", None)
    assert found == {math.inf: None, 3.0: "no"}, found


def test_one_short_word_is_not_taken_for_a_phrase_of_three_syllables(speech_commands, say):
    """Real "go" and "on" the grammar read as "go ahead" and "too quiet" (a false "go ahead"
    resumes the massage) show one syllable nucleus, and are refused. espeak-ng's phrases of three
    syllables or more, in three voices at 150-190 words a minute, show more and are heard as
    without the rule. (Without the rule the lattice is built for every utterance: the search's own
    reading of that "go" is garbage, and skipping the lattice refuses it too.)"""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    clips = ("go/b83c1acf_nohash_0", "on/9a7c1f83_nohash_0")
    takes = [(text, voice, rate) for text in ("no i don't", "yes i am", "yes i do", "ok thanks", "please go on",
                                              "no there aren't")
             for voice, rate in (("en-us", 150), ("en-gb", 170), ("en+f3", 190))]
    found = {}
    for least in (None, SphinxSettings().phrase_min_syllables):
        found[least] = {}
        settings = SphinxSettings(phrase_min_syllables=least, lattice_only_for_phrases=least is not None)
        for clip in clips:
            recognizer = SphinxRecognizer(settings=settings)
            recognizer.set_grammar("answer")  # a fresh one each: no running mean learnt from the others
            hyp = heard(recognizer, ev.pad(from_pcm(read_wav(speech_commands / f"{clip}.wav"))))
            found[least][clip] = hyp.text if hyp else None
        recognizer = SphinxRecognizer(settings=settings)
        recognizer.set_grammar("answer")
        for take in takes:
            hyp = heard(recognizer, say(*take))
            found[least][take] = hyp.intent if hyp else None
    never, default = found.values()
    assert [never[c] for c in clips] == ["go ahead", "too quiet"], never
    assert [default[c] for c in clips] == [None, None], default
    assert {t: default[t] for t in takes} == {t: never[t] for t in takes}, found
    assert sum(default[t] is not None for t in takes) >= 13, default


class _CountsLattices:
    """The grammar's decoder, counting `hyp()` calls after `end_utt()`: each builds the lattice."""

    def __init__(self, decoder) -> None:
        self._decoder, self._ended, self.built = decoder, False, 0

    def __getattr__(self, name: str):
        method = getattr(self._decoder, name)
        if name not in ("start_utt", "end_utt", "hyp"):
            return method

        def call(*args, **kwargs):
            if name == "hyp":
                self.built += self._ended
            else:
                self._ended = name == "end_utt"
            return method(*args, **kwargs)
        return call


def _decided_with_and_without_the_lattice(clips: list, field: str) -> tuple[dict, dict]:
    """Each clip decided by a recogniser that always builds the lattice (False) and by one that
    builds it only where a phrase needs it (True): the decisions' `field` and the lattices built."""
    from assistant.recognition.sphinx import SphinxRecognizer, SphinxSettings

    found, built = {}, {}
    for skip in (False, True):
        recognizer = SphinxRecognizer(settings=SphinxSettings(lattice_only_for_phrases=skip))
        recognizer.set_grammar("answer")
        recognizer._cmd = counter = _CountsLattices(recognizer._cmd)
        hyps = [heard(recognizer, ev.pad(from_pcm(read_wav(clip)))) for clip in clips]
        found[skip], built[skip] = [getattr(h, field) if h else None for h in hyps], counter.built
    return found, built


def test_an_utterance_read_as_garbage_is_decided_without_the_lattice(speech_commands):
    """Other words the grammar's search reads as garbage words are decided from that reading: the
    lattice (36 ms an utterance clean, 240 ms at 0 dB) is not built, and every decision is the
    same as with it."""
    clips = sorted((speech_commands / "_unknown_").glob("*.wav"))[:12]
    found, built = _decided_with_and_without_the_lattice(clips, "text")
    assert found[True] == found[False], found
    assert built[False] >= len(clips), built
    assert built[True] < built[False] / 2, built


def test_a_one_word_answer_the_spotter_has_is_decided_without_the_lattice(speech_commands):
    """Where the grammar's search reads a one-word phrase of this state ("yes") and the spotter
    has a word, the spotter decides whatever the lattice would read but a phrase of several words:
    the lattice is not built, and every decision is the same as with it."""
    clips = [p for word in ("yes", "no") for p in sorted((speech_commands / word).glob("*.wav"))[:10]]
    found, built = _decided_with_and_without_the_lattice(clips, "intent")
    print(f"lattices built of {len(clips)} answers: always {built[False]}, only for phrases {built[True]}")
    assert found[True] == found[False], found
    assert sum(f == p.parent.name for f, p in zip(found[True], clips)) >= 16, found
    assert built[True] <= built[False] - 4, built
