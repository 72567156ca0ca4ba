"""The `sphinx` engine: English forced alignment by PocketSphinx, phones named as the `dtw` engine names them.

PocketSphinx 5 (its US English model and CMU dictionary ship in the wheel) aligns the words of the text
with optional silence between them, then re-aligns every phone inside those words. Its ARPAbet phones are
matched, by a least-cost edit alignment, to the phones eSpeak NG speaks for the same text (the `dtw`
engine's reference), so both engines name phones alike: eSpeak's IPA, "sil" at the ends and "pau" where
PocketSphinx heard a silence between words.
"""

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from voicestudio.align.aligner import AlignmentFailed, increasing_within, require_sound
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.fallback import FallbackAligner
from voicestudio.align.reference import synthesize_english
from voicestudio.audio.io import resample
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.language import Language
from voicestudio.text.arpabet import PHONEMES, VOWELS, ipa_to_arpabet, strip_stress
from voicestudio.text.errors import G2PError
from voicestudio.text.g2p import english_word_arpabet

SAMPLE_RATE_HZ: Final = 16_000  # the rate of the US English model
FRAME_RATE_HZ: Final = 100  # the frame rate the model was trained at
WINDOW_MS: Final = 25.625  # PocketSphinx's analysis window
SILENCE: Final = "sil"
PAUSE: Final = "pau"
# Room around the take so the first and last word can start and end in silence; eSpeak's speech starts
# and stops abruptly, and without this pad 2 of 16 of its sentences found no path through the text.
PAD_MS: Final = 200.0
# Pruning: PocketSphinx's default word beam (7e-29) loses the only path through the text on 5 of 16
# eSpeak sentences; 1e-120 lost none. A failed take is tried once more without pruning at all.
BEAMS: Final = (1e-120, 1e-300)
# A phone's score is exp(mean log-likelihood ratio per 10 ms frame / SCORE_NATS), see `phone_score`.
SCORE_NATS: Final = 2.0
# Below this mean phone score the dtw engine does better: takes at 0 dB SNR scored 0.09-0.17 (sphinx
# 29-88 ms median error, dtw 21-29 ms), takes read from another text 0.05-0.16, clean natural speech
# 0.52-0.61, 10 dB SNR 0.25-0.38 (both engines alike there).
MIN_SCORE: Final = 0.2
_SCORE_SHIFT: Final = 10  # PocketSphinx's acoustic scores: log base 1.0001, shifted right by 10 bits
_LOG_BASE: Final = 1.0001
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)*")
# Edit costs when matching PocketSphinx's ARPAbet to eSpeak's: a vowel for a consonant costs more than
# skipping both, so a skip is taken there instead.
_SKIP_COST: Final = 1.0
_SAME_CLASS_COST: Final = 0.6
_OTHER_CLASS_COST: Final = 2.5

_lock = threading.Lock()  # PocketSphinx's logging and model loading share process-wide state


@dataclass(frozen=True, slots=True)
class TimedPhone:
    """A phone PocketSphinx placed: ARPAbet without stress, or "" for silence and noise; times in ms."""

    phone: str
    start_ms: float
    end_ms: float
    score: float


@dataclass(frozen=True, slots=True)
class SphinxAligner:
    """Forced alignment of English takes by PocketSphinx; phones named as the `dtw` engine names them.

    A phone that starts at frame i starts `centre_ms` after that frame's first sample (by default half a
    window: the middle of the first window that saw it). `frame_rate_hz` 200 gives 5 ms frames; the
    model was trained at 100, and on piper's English 200 was no better (median error 23.7 vs 22.9 ms).
    """

    frame_rate_hz: int = FRAME_RATE_HZ
    centre_ms: float = WINDOW_MS / 2.0

    def align(
        self, samples: npt.NDArray[np.float32], sample_rate_hz: int, text: str, language: Language
    ) -> Alignment:
        """The eSpeak phones of `text` placed on `samples`; "sil"/"pau" where PocketSphinx heard silence.

        Each segment's score is PocketSphinx's acoustic score of the phones behind it (see `phone_score`).
        """
        if language is not Language.en:
            raise AlignmentFailed(
                f"The sphinx aligner knows only English, and this take is {language.value!r}; "
                "align it with the dtw aligner."
            )
        samples = np.asarray(samples, dtype=np.float32)
        require_sound(samples, sample_rate_hz)
        words = [word.lower().replace("’", "'") for word in _WORD.findall(text)]
        if not words:
            raise AlignmentFailed(f"There are no English words in {text!r}; write what is said in the take.")
        try:
            reference = synthesize_english(text).alignment.phones
        except ValueError as e:
            raise AlignmentFailed(f"The text {text!r} cannot be spoken for alignment: {e}.") from None
        timed = self.timed_phones(resample(samples, sample_rate_hz, SAMPLE_RATE_HZ), words)
        return name_like_reference(timed, reference, 1000.0 * len(samples) / sample_rate_hz)

    def timed_phones(self, samples_16k: npt.NDArray[np.float32], words: Sequence[str]) -> list[TimedPhone]:
        """PocketSphinx's phones for `words` in 16 kHz `samples_16k`, in ms from the first sample."""
        pad = round(PAD_MS * SAMPLE_RATE_HZ / 1000.0)
        scaled = np.pad(samples_16k, pad).astype(np.float64) * 32767.0
        # Dither (1 LSB, the same every call): exact digital silence has no spectrum to normalise.
        scaled += np.random.default_rng(0).normal(0.0, 1.0, len(scaled))
        pcm = np.clip(np.round(scaled), -32768, 32767).astype("<i2").tobytes()
        for beam in BEAMS:
            result = self._decode(pcm, words, beam)
            if result:
                return [
                    TimedPhone(phone, start_ms - PAD_MS, end_ms - PAD_MS, score)
                    for phone, start_ms, end_ms, score in result
                ]
        raise AlignmentFailed(
            "PocketSphinx could not fit the words of the text to the take. Check that the take is this "
            "prompt, read in full, or align it with the dtw aligner."
        )

    def _decode(self, pcm: bytes, words: Sequence[str], beam: float) -> list[tuple[str, float, float, float]]:
        """Both passes (words, then phones in them) with one beam; [] when no path reached the end."""
        frame_ms = 1000.0 / self.frame_rate_hz
        key = (self.frame_rate_hz, beam)
        with _lock:
            decoder = _decoders.get(key) or _decoders.setdefault(key, _new_decoder(*key))
            for word in sorted(set(words)):
                if decoder.lookup_word(word) is None:  # a known word keeps all its variants
                    decoder.add_word(word, _g2p_arpabet(word), update=True)
            try:
                decoder.set_align_text(" ".join(words))
                _decode_pass(decoder, pcm)
                if decoder.hyp() is None:
                    return []
                decoder.set_alignment()
                _decode_pass(decoder, pcm)
                alignment: Any = decoder.get_alignment()
            except RuntimeError:
                del _decoders[key]  # it may be left inside an utterance
                return []
            if alignment is None:
                return []
            return [
                (
                    str(phone.name) if str(phone.name) in PHONEMES else "",
                    int(phone.start) * frame_ms + self.centre_ms,
                    (int(phone.start) + int(phone.duration)) * frame_ms + self.centre_ms,
                    phone_score(int(phone.score), int(phone.duration), self.frame_rate_hz),
                )
                for word in alignment
                for phone in word
            ]


_decoders: dict[tuple[int, float], Any] = {}  # by (frame rate, beam); guarded by _lock


def _new_decoder(frame_rate_hz: int, beam: float) -> Any:
    """A decoder aligning with one beam everywhere (loading the model takes ~70 ms, so each is kept)."""
    import pocketsphinx  # type: ignore[import-untyped]  # the package ships no type information

    return pocketsphinx.Decoder(
        lm=None,
        loglevel="FATAL",
        bestpath=False,  # the lattice pass can leave a phone fewer frames than its HMM has states
        beam=beam,
        wbeam=beam,
        pbeam=beam,
        lpbeam=beam,
        lponlybeam=beam,
        frate=frame_rate_hz,
    )


def sphinx_or_dtw(min_score: float = MIN_SCORE) -> FallbackAligner:
    """The sphinx engine with the dtw engine behind it, for other languages, failed and unsure takes."""
    return FallbackAligner(SphinxAligner(), DtwAligner(), min_score)


def _decode_pass(decoder: Any, pcm: bytes) -> None:
    decoder.start_utt()
    decoder.process_raw(pcm, full_utt=True)
    decoder.end_utt()


def phone_score(score: int, frames: int, frame_rate_hz: int = FRAME_RATE_HZ) -> float:
    """0..1 from PocketSphinx's acoustic score of one phone: exp(nats per 10 ms / SCORE_NATS).

    PocketSphinx scores each frame against the best-fitting senone of that frame, so a phone scores 0 nats
    (1.0 here) where nothing else fit the sound better. Natural speech of the right text averages 0.5-0.6,
    robotic eSpeak 0.2-0.3, a take aligned to the wrong text below 0.17 (bench/align.py).
    """
    nats = score * float(1 << _SCORE_SHIFT) * float(np.log(_LOG_BASE))
    per_10ms = nats / max(frames, 1) * frame_rate_hz / FRAME_RATE_HZ
    return float(np.exp(min(per_10ms, 0.0) / SCORE_NATS))


def _g2p_arpabet(word: str) -> str:
    """ARPAbet (no stress) from the studio's G2P, for a word PocketSphinx's dictionary lacks."""
    try:
        return " ".join(strip_stress(phone) for phone in english_word_arpabet(word))
    except G2PError as e:
        raise AlignmentFailed(str(e)) from None


def name_like_reference(
    timed: Sequence[TimedPhone], reference: Sequence[str], duration_ms: float
) -> Alignment:
    """eSpeak's spoken phones (`reference`, gaps left out) on the times of the PocketSphinx phones they match.

    A reference phone PocketSphinx has no match for shares the time of its neighbour; a PocketSphinx phone
    with no match joins the phone before it. Silences come from PocketSphinx, as "pau" or "sil" at the ends.
    """
    names = [phone for phone in reference if phone not in (SILENCE, PAUSE)]
    parts = [(index, arpabet) for index, name in enumerate(names) for arpabet in _ipa_arpabet(name)]
    spoken = [t for t in timed if t.phone]
    if not spoken or not parts:
        raise AlignmentFailed(
            "PocketSphinx heard none of the text in the take; check that it is this prompt."
        )
    members: list[list[TimedPhone]] = [[] for _ in parts]
    orphans: list[TimedPhone] = []  # unmatched PocketSphinx phones before the first match
    last: int | None = None
    for part, k in _edit_alignment([arpabet for _, arpabet in parts], [t.phone for t in spoken]):
        if k is None:
            continue
        if part is not None:
            last = part
        if last is None:
            orphans.append(spoken[k])
        else:
            members[last].append(spoken[k])
    first = next((i for i, m in enumerate(members) if m), None)
    if first is None:
        raise AlignmentFailed(
            "PocketSphinx placed none of the text's phones; check that the take is this prompt."
        )
    members[first] = orphans + members[first]
    per_name: list[list[tuple[float, float, float]]] = [[] for _ in names]
    for (owner, _), span in zip(parts, _share_with_neighbours(members), strict=True):
        per_name[owner].append(span)
    starts = [spans[0][0] for spans in per_name]
    ends = [spans[-1][1] for spans in per_name]
    scores = [float(np.mean([score for _, _, score in spans])) for spans in per_name]
    gaps = [t for t in timed if not t.phone]
    return _laid_end_to_end(names, starts, ends, scores, gaps, duration_ms)


def _ipa_arpabet(name: str) -> list[str]:
    """The ARPAbet phones (no stress) of one eSpeak phone: "aɪ" → [AY], "n̩" → [AH, N]."""
    try:
        phones = [strip_stress(phone) for phone in ipa_to_arpabet(name)]
    except G2PError:
        phones = []
    return phones or [name]


def _share_with_neighbours(members: list[list[TimedPhone]]) -> list[tuple[float, float, float]]:
    """(start, end, score) of every part; a run of parts with no phone splits the span of the part before
    it (after it, at the start) evenly with that part."""
    spans: list[tuple[float, float, float] | None] = [
        (m[0].start_ms, m[-1].end_ms, float(np.mean([t.score for t in m]))) if m else None for m in members
    ]
    index = 0
    while index < len(spans):
        if spans[index] is not None:
            index += 1
            continue
        run_end = index
        while run_end < len(spans) and spans[run_end] is None:
            run_end += 1
        donor = index - 1 if index > 0 else run_end  # a part with phones exists: `first` in the caller
        start, end, score = spans[donor]  # type: ignore[misc]  # the donor has phones
        group = sorted([*range(index, run_end), donor])
        for position, member in enumerate(group):
            spans[member] = (
                start + (end - start) * position / len(group),
                start + (end - start) * (position + 1) / len(group),
                score,
            )
        index = run_end
    return [span for span in spans if span is not None]


def _laid_end_to_end(
    names: list[str],
    starts: list[float],
    ends: list[float],
    scores: list[float],
    gaps: list[TimedPhone],
    duration_ms: float,
) -> Alignment:
    """Segments from 0 ms to the take's end: "sil", the phones with "pau" wherever one ends before the next
    starts, "sil"; every segment kept at least a hair long so none overlap."""
    labels = [SILENCE]
    boundaries = [starts[0]]
    values = [_gap_score(gaps, 0.0, starts[0])]
    for k, name in enumerate(names):
        labels.append(name)
        values.append(scores[k])
        following = starts[k + 1] if k + 1 < len(names) else None
        if following is not None and following <= ends[k] + 1e-6:
            boundaries.append(following)
            continue
        boundaries.append(ends[k])
        labels.append(PAUSE if following is not None else SILENCE)
        values.append(_gap_score(gaps, ends[k], following if following is not None else duration_ms))
        if following is not None:
            boundaries.append(following)
    cuts = increasing_within(np.asarray(boundaries, dtype=np.float64), duration_ms)
    edges = np.concatenate([[0.0], cuts, [duration_ms]])
    return Alignment(
        tuple(
            PhoneSegment(label, float(edges[i]), float(edges[i + 1]), value)
            for i, (label, value) in enumerate(zip(labels, values, strict=True))
        )
    )


def _gap_score(gaps: list[TimedPhone], start_ms: float, end_ms: float) -> float:
    """Mean score of PocketSphinx's silences over a gap; 1 where it placed none (a gap of no length)."""
    overlapping = [g.score for g in gaps if g.end_ms > start_ms and g.start_ms < end_ms]
    return float(np.mean(overlapping)) if overlapping else 1.0


def _edit_alignment(a: Sequence[str], b: Sequence[str]) -> list[tuple[int | None, int | None]]:
    """The least-cost alignment of two ARPAbet strings as (index in a, index in b), None where skipped."""
    n, m = len(a), len(b)
    substitution = np.array([[_substitution_cost(x, y) for y in b] for x in a]).reshape(n, m)
    cost = np.zeros((n + 1, m + 1))
    cost[:, 0] = np.arange(n + 1) * _SKIP_COST
    cost[0, :] = np.arange(m + 1) * _SKIP_COST
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost[i, j] = min(
                cost[i - 1, j - 1] + substitution[i - 1, j - 1],
                cost[i - 1, j] + _SKIP_COST,
                cost[i, j - 1] + _SKIP_COST,
            )
    pairs: list[tuple[int | None, int | None]] = []
    i, j = n, m
    while i > 0 or j > 0:
        if i > 0 and j > 0 and np.isclose(cost[i, j], cost[i - 1, j - 1] + substitution[i - 1, j - 1]):
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif i > 0 and np.isclose(cost[i, j], cost[i - 1, j] + _SKIP_COST):
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    return pairs[::-1]


def _substitution_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    return _SAME_CLASS_COST if (a in VOWELS) == (b in VOWELS) else _OTHER_CLASS_COST
