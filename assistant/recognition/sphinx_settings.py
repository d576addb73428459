"""The built-in engine's settings (sphinx.py): each value with what it does and where it was
measured (docs/BENCHMARKS.md, Recognition)."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.recognition.spotting import ThresholdRule


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
    a third less CPU time (real-time factor median 0.107 -> 0.076 over the benchmark, 0.158 ->
    0.116 at 0 dB), held-out clean other words taken 15 -> 12 of 273, real speakers' answers about
    as before (10 dB "no" 40 -> 39 of 49, 0 dB "yes" and "no" 58 -> 52 of 103); but espeak-ng's
    voices are heard worse (10 dB phrases 18 -> 14 of 48, "please stop" decided at its end instead
    of at the "stop"; seven tests fail), and voices unlike the dev speakers lose their "stop":
    forty espeak-ng takes in a row of "stop", "stop it now", "stop that" and "stop everything" in
    five voices, 40 heard (38 at the "stop") with both spotters, 33 (10) with the adapted one
    alone. So it is not the default (docs/BENCHMARKS.md, Recognition, twenty-fourth, twenty-sixth
    and twenty-seventh rounds)."""
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
    (docs/BENCHMARKS.md, Recognition, twenty-third round). Nor is it built for a one-word phrase of
    this state read while the spotter has a word, which then decides whatever the lattice reads but
    a phrase of several words: 39 of 152 lattices over every fourth benchmark clip, 3 of them reading
    otherwise ("no" as "no it"); the same decisions on 470 benchmark clips, the 910 dev clips and
    flite's 350 takes, CPU time 2% less (twenty-sixth round). False: the lattice is always built."""
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
    these speeds (from STEADY_BELOW under the floor to STEADY_ABOVE over it, second_opinion.py):
    the word must be heard at two of the three. One reading lands above or below the threshold by
    chance; a word really said stays heard a little faster or slower. A "stop" is judged as said: the median lost three real ones, and
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
