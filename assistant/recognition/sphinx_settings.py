"""The built-in engine's settings (sphinx.py): each value with what it does and why it is set
so. The measurements behind them are in docs/BENCHMARKS.md, Recognition, by round."""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.recognition.spotting import ThresholdRule


@dataclass(frozen=True)
class SphinxSettings:
    """Tuning of the built-in engine's search and rejection."""

    # --- the grammar --------------------------------------------------------------

    threshold: float | None = None
    """Minimum of (grammar score - phone-loop score) per 10 ms frame, in log-1.0001 units; None:
    no phone loop. With the garbage words in the grammar it cost more recall than it saved false
    accepts, at twice the CPU time."""
    phone_lw: float = 1.0
    """Language weight of the phone bigram in the phone loop."""
    scale: float = 4.0
    """Spread of the logistic that turns the score ratio into a 0..1 confidence."""
    garbage_words: int = 100
    """How many frequent English words the garbage branch offers (0: none). More cost CPU time
    and gain nothing beside the spotter; 300 was measured without it."""
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
    """Decode each utterance in one pass when the voice activity detector closes it, with the
    cepstral mean of that utterance (batch CMN) instead of the running one; no partial results,
    so a command acts ~0.3 s later (`footcare recognize --whole-utterances`). Held-out recall 5-9
    points higher, but near-miss words taken 11 points more often and some noise alone (a cat)
    becomes a command."""
    beam: float = 1e-35
    """Search beam (HMMs; word exits `wbeam`), narrower than PocketSphinx's default: no worse in
    recall at half the CPU time."""
    wbeam: float = 1e-25
    grammar_fillers: bool = True
    """PocketSphinx's silence and noise words at every state of the grammar (`fsgusefiller`).
    Without them the grammar costs a sixth less CPU time but hears phrases of several words far
    worse (espeak-ng's 25 -> 15 of 78, "i don't know" as "no"; seventeenth round)."""
    nbest_agree: int = 5
    """A phrase the grammar decides must lead this many of its n-best readings."""
    phrase_max_extra_s: float = 1.5
    """A phrase the grammar decides (not a safety one) counts only when its words leave at most
    this many seconds of its utterance uncovered: in plain talk the grammar found phrases ("ok
    please") that left 1.5-6.0 s uncovered, phrases said alone at most 1.1 s (nineteenth round)."""
    phrase_min_syllables: int | None = 3
    """A phrase the grammar decides (not a safety one) of at least this many syllables counts only
    when its utterance shows more than one syllable nucleus (syllables.py): the grammar read one
    short word as a phrase ("go" as "go ahead", "nine" as "no i don't"). 274 of 308 real "go",
    "on" and "no" clips showed one nucleus, espeak-ng's phrases of three syllables or more 1 of
    1062; two-syllable words showed one in a third of clips, so shorter phrases are not judged
    (twenty-second round). None: never."""
    lattice_only_for_phrases: bool = True
    """The grammar's lattice (its best path and the posterior behind the confidence: 36 ms an
    utterance clean, 240 ms at 0 dB) is built at an utterance's end only where it could change
    the decision: not when the search's own reading is garbage words or another state's phrase,
    nor when it is a one-word phrase of this state and the spotter has a word. CPU time a fifth
    less at 10 dB, a third less at 0 dB; over the 910 dev clips two other words were no longer
    taken, and nothing else changed (twenty-third and twenty-sixth rounds). False: always built."""

    # --- the spotters -------------------------------------------------------------

    spotting: bool = True
    """Keyword spotting for one-word phrases beside the grammar (spotting.py); False: the grammar
    decides every phrase."""
    rule: ThresholdRule = field(default_factory=ThresholdRule)
    """Margin each spotted word needs."""
    slack: float = 300.0
    """The grammar's one-word phrase ("nah") counts when a word of its intent was spotted within
    this of its threshold (spotting.py; scaled log units)."""
    phrase_slack: float = 900.0
    """The grammar's phrase of several words with a spotted word of its intent ("louder please")
    counts when that word was spotted within this of its threshold. 600 lost a seventh of
    espeak-ng's phrases; no such check let plain talk become "louder please" (nineteenth round)."""
    spotter_ds: int = 1
    """The spotters score the acoustic model every this many frames (PocketSphinx's `ds`). 2 costs
    a sixth less CPU time but takes more other words for commands (eighteenth round; one spotter
    at 2 and the other at 1: twenty-fourth and twenty-seventh rounds)."""
    adapted_spotter: bool = True
    """A second spotter listens beside the stock one, with the acoustic model adapted to the `tune`
    speakers (ADAPTED_DIR, scripts/adapt_sphinx.py); a word counts when either hears it above its
    threshold, the adapted one's raised by `adapted_margin`. Held-out clean stop 87 -> 91%, no
    49 -> 62% before the word check (ninth round); beside the check, 2 of 35 real "stop"s act at
    the word instead of 0.5 s later (Barge-in, eighteenth round)."""
    stock_spotter: bool = True
    """The stock model's spotter listens beside the adapted one. False: the adapted spotter
    listens alone, at the stock thresholds: a third less CPU time (real-time factor 0.107 ->
    0.076) and fewer other words taken by the dev speakers, but voices unlike them lose their
    "stop": forty espeak-ng stop phrases in a row, 40 heard (38 at the "stop") with both
    spotters, 33 (10) with the adapted one alone, and seven tests fail (twenty-fourth,
    twenty-sixth and twenty-seventh rounds)."""
    adapted_margin: float = 200.0
    """How much more margin a word needs from the adapted spotter than from the stock one."""
    adapted_margin_overrides: dict[str, float] = field(default_factory=lambda: {"stop": 300.0, "no": 100.0})
    """Chosen on the `tune` speakers: the adapted model's "stop" takes "up" for it more often,
    and its "no" is worth more."""
    adapted_grammar: bool = False
    """The grammar uses the adapted model too: real speakers' "yes" 91%, "no" 74%, but espeak-ng
    voices' phrases are heard worse ("I don't know" not as "not sure" in three voices)."""
    fresh_mean_snr_db: float | None = 30.0
    """In a recording (a stream begun with `new_stream`), an utterance whose onset stands this far
    (dB) above the background is spotted from the model's own cepstral mean, not the running one
    learnt from other recordings (seventh round). In noise the running mean is kept (it has learnt
    the noise); so does the grammar, and so does a live stream, whose mean is learnt from its one
    microphone and user (started fresh live, the spoken session test twice missed the user's
    words over our narration). None: always the running mean."""

    # --- the word check (second_opinion.py) ---------------------------------------

    word_check: bool = True
    """A second opinion (word_check.py: Google's speech embedding and a classifier over it) on
    "stop", "yes" and "no" in utterances one word long: it takes the word when it hears it,
    PocketSphinx or not, refuses PocketSphinx's "yes" or "no" when it does not hear that word,
    and its "stop" only when far from hearing it. Other phrases stay PocketSphinx's (eleventh
    round)."""
    word_check_stop_floor: float = -5.0
    """PocketSphinx's "stop" is refused only when the check's margin for it is below this: 2 of
    140 real "stop"s decided early were that far, against 15 of the 17 other words taken for
    "stop"; espeak-ng's were at -3.7 or above. A false "stop" is safe, a lost one is not."""
    word_check_overrule: float = 5.0
    """A phrase PocketSphinx heard that is not one of the check's words ("please go on", "none")
    gives way to the check's word of another intent heard with at least this margin; a safety
    phrase always stands. Non-check phrases came with a check margin above 0 only on that word's
    own clips (real "stop"s as "please go on" 7.3, real "no"s as "go ahead" 9.7; a "yes i have"
    gave "no" 1.8). A "yes", "no" or "stop" the check refuses counts as nothing heard
    (nineteenth and twentieth rounds)."""
    word_check_alternate_floor: float = -3.0
    """A lone word that begins like the check's word of its intent ("yep", "nah", "none"; not
    "okay" or "sure") counts only when the check's margin for that word is at least this: real
    "yes"/"no" read so scored -0.2 to 16.9, other words read so -2.1 to -14.8 ("nine" as "nah").
    A false "no" to "is any skin broken?" would let the massage go on (twentieth round)."""
    word_check_spotted_in_talk: bool = True
    """A word the spotter hears more than WORD_AFTER_S after its utterance's onset ("stop" in a
    television's talk, "please stop") is judged by the check too, on its own audio: spotted
    "stop"s in plain talk 11 -> 5 of 78 takes; real "stop"s after other speech 144 -> 116 of 154
    heard (twentieth round)."""
    word_check_unvoiced_margin: float | None = 3.0
    """An utterance loud enough but with too few voiced frames (MIN_VOICED_FRAMES), where
    PocketSphinx hears nothing, still gives the check's word at this margin or more; None: never.
    Some real "stop"s are not voiced enough and scored 4.6 to 20.7; noise, silence and other
    words in such utterances 0.3 at most (twentieth round)."""
    word_check_speeds: tuple[float, ...] = (0.92, 1.08)
    """Where the check alone decides a "yes" or "no", its margin is the median over the audio as
    it is and played at these speeds (near its floor only: second_opinion.py): one reading lands
    over the threshold by chance, a word really said stays heard a little faster or slower.
    Held-out "yes" and "no" clean 178 -> 184 of 192, other words 26 -> 24 of 370. A "stop" is
    judged as said: the median lost real ones (twenty-first round). (): as said only."""
    word_check_max_s: float = 1.6
    """Longer utterances are phrases, which the check was not trained on (a word of 1 s ends as
    an utterance of 1.3-1.5 s), unless their loud part is one word long (`word_check_loud_s`)."""
    word_check_loud_s: float = 0.9
    """A longer utterance is still judged when its loud part (WORD_PEAK_DB), begun after
    WORD_LOUD_AFTER_S, lasts up to this: a word in noise that began before it (55 of 56 held-out
    words at 10 dB; "i don't know" at 130 wpm, 1.1 s, is not; fifteenth round). 0: never."""
    word_check_long_margin: float | None = 3.0
    """An utterance too long for the check (above), up to the audio it keeps, where PocketSphinx
    heard nothing at its end, still gives the check's word at this margin or more; None: never.
    In such utterances at 10 dB, held-out "yes" and "no" scored up to 19.5 (33 of 38 above 2),
    other words 2.0 at most (42 of 1092); every dev clip at 10 dB: held-out "no" 254 -> 258 of
    368, no other word taken by it (twenty-eighth round)."""
