"""How close each alignment engine puts phone boundaries to the true ones, and how long it takes.

Run: `python bench/align.py` (add `--markdown` for a table to paste into bench/RESULTS.md).
Conditions: Japanese in the reference's own voice; the same re-spoken by WORLD slower/faster and
lower/higher with 0.5 s of faint noise around it; Japanese read by eSpeak NG's `ja` voice against the
HTS reference; English by piper `joe` against eSpeak's reference, its true times read from piper's
per-id durations with each phone starting where the pad before it starts and the space between words
given to the next word's first consonant (tests/fixtures/piper_phones.py), and once more against piper's
own alignment (each phone with the pad after it, the space a gap) for comparison.
Engines: `dtw`; `sphinx` (English only, the dtw engine behind it for unsure takes); `dtw + refine`
(`voicestudio.align.refine`, trained on all takes of a condition at once) where that module imports.
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.speech import natural_english
from fixtures.stretch import PAD_MS, WORLD_RATE_HZ, stretched_take
from machine import machine, print_table
from voicestudio.align.aligner import Aligner
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.fallback import FallbackAligner
from voicestudio.align.metrics import matching_start_errors_ms, summarize_errors_ms
from voicestudio.align.reference import synthesize_japanese
from voicestudio.align.sphinx import sphinx_or_dtw
from voicestudio.audio.io import read_audio
from voicestudio.domain.alignment import Alignment, PhoneSegment
from voicestudio.domain.language import Language
from voicestudio.text import espeak
from voicestudio.text.prompts import load_prompt_set

Refiner = Callable[[Sequence[tuple[npt.NDArray[np.float32], int]], Sequence[Alignment]], list[Alignment]]
try:  # the reclist refinement; without it the bench reports the other engines
    from voicestudio.align.refine import refine_alignments as _refine

    REFINE: Refiner | None = _refine
except ImportError:
    REFINE = None

SENTENCES = 5
EN_SENTENCES = 10
STRETCHES = ((0.85, -3.0), (1.15, 3.0))


@dataclass(frozen=True, slots=True)
class Case:
    """One take to align and the true boundary times to compare against (ms, in the take)."""

    samples: npt.NDArray[np.float32]
    sample_rate_hz: int
    text: str
    language: Language
    truth: Alignment
    scale: float = 1.0
    shift_ms: float = 0.0
    fold_case: bool = False  # compare phone names in lower case (pyopenjtalk writes devoiced vowels "I")


@dataclass(frozen=True, slots=True)
class Outcome:
    errors_ms: npt.NDArray[np.float64]
    audio_s: float
    align_s: float
    fallback_share: float | None = None  # None: the engine has no fallback


def japanese_cases(texts: list[str], stretch: tuple[float, float] | None) -> Iterator[Case]:
    for text in texts:
        speech = synthesize_japanese(text)
        if stretch is None:
            yield Case(speech.samples, speech.sample_rate_hz, text, Language.ja, speech.alignment)
            continue
        tempo_factor, semitones = stretch
        take = stretched_take(speech.samples, speech.sample_rate_hz, tempo_factor, semitones)
        yield Case(take, WORLD_RATE_HZ, text, Language.ja, speech.alignment, tempo_factor, PAD_MS)


def espeak_japanese_cases(texts: list[str]) -> Iterator[Case]:
    """eSpeak NG's `ja` voice reading pyopenjtalk's kana (it spells kanji out as "Chinese letter")."""
    import pyopenjtalk

    for text in texts:
        kana = str(pyopenjtalk.g2p(text, kana=True))
        speech = espeak.synthesize_with_phones(kana, "ja")
        truth = espeak_ja_as_openjtalk(speech.alignment)
        yield Case(speech.samples, speech.sample_rate_hz, text, Language.ja, truth, fold_case=True)


# eSpeak `ja` phone → pyopenjtalk phone; a "ʲ" event palatalises the consonant before it (k ʲ → ky).
_ESPEAK_JA = {
    "ä": "a", "a": "a", "i": "i", "ɯᵝ": "u", "ɯ": "u", "u": "u", "e̞": "e", "e": "e", "o̞": "o", "o": "o",
    "ɕ": "sh", "tɕ": "ch", "dʑ": "j", "ts": "ts", "dz": "z", "ɸ": "f", "ɽ": "r", "ɾ": "r", "ɡ": "g",
    "ç": "hy", "j": "y", "ɴ": "N", "ũ": "N", "ŋ": "N", "ĩ": "N",
}  # fmt: skip
_JA_VOWELS = frozenset("aiueo")


def espeak_ja_as_openjtalk(alignment: Alignment) -> Alignment:
    """eSpeak's `ja` phones renamed as pyopenjtalk names them: palatalised consonants joined, the first of
    a doubled consonant "cl", a moraic n "N". eSpeak speaks a long vowel as one vowel; it stays one."""
    merged: list[PhoneSegment] = []
    for segment in alignment.segments:
        if segment.phone == "ʲ" and merged:
            last = merged.pop()
            merged.append(replace(last, phone=last.phone + "y", end_ms=segment.end_ms))
            continue
        merged.append(replace(segment, phone=_ESPEAK_JA.get(segment.phone, segment.phone)))
    renamed = []
    for index, segment in enumerate(merged):
        following = merged[index + 1].phone if index + 1 < len(merged) else ""
        phone = segment.phone
        if phone == "n" and following[:1] not in _JA_VOWELS and following != "ny":
            phone = "N"  # before a consonant, a pause or a second n: ン
        elif phone == following and phone not in _JA_VOWELS and phone not in ("sil", "pau", "N"):
            phone = "cl"
        renamed.append(replace(segment, phone=phone))
    return Alignment(tuple(renamed))


def english_cases(texts: list[str], folder: Path, piper_timing: bool = False) -> Iterator[Case]:
    """Piper `joe` reading `texts`; `piper_timing`: the truth as piper's own alignment groups it."""
    for number, text in enumerate(texts):
        if piper_timing:
            fixture = natural_english(text, folder, f"en_{number}_piper", pad_to_next=0.0, word_gaps=True)
        else:
            fixture = natural_english(text, folder, f"en_{number}")
        clip = read_audio(fixture.wav_path)
        yield Case(clip.samples, clip.sample_rate_hz, text, Language.en, fixture.alignment)


def _errors(found: Alignment, case: Case) -> npt.NDArray[np.float64]:
    truth = case.truth
    if case.fold_case:
        found, truth = _lower(found), _lower(truth)
    return matching_start_errors_ms(found, truth, case.scale, case.shift_ms)


def _lower(alignment: Alignment) -> Alignment:
    return Alignment(tuple(replace(s, phone=s.phone.lower()) for s in alignment.segments))


def run(cases: Sequence[Case], aligner: Aligner, refine: Refiner | None = None) -> Outcome:
    """Align every take (then refine them all together, when `refine` is given) and measure."""
    found: list[Alignment] = []
    fallbacks = 0
    started = time.perf_counter()
    for case in cases:
        if isinstance(aligner, FallbackAligner):
            choice = aligner.choose(case.samples, case.sample_rate_hz, case.text, case.language)
            fallbacks += choice.fell_back
            found.append(choice.alignment)
        else:
            found.append(aligner.align(case.samples, case.sample_rate_hz, case.text, case.language))
    if refine is not None:
        found = refine([(case.samples, case.sample_rate_hz) for case in cases], found)
    align_s = time.perf_counter() - started
    audio_s = sum(len(case.samples) / case.sample_rate_hz for case in cases)
    errors = np.concatenate([_errors(alignment, case) for alignment, case in zip(found, cases, strict=True)])
    share = fallbacks / len(cases) if isinstance(aligner, FallbackAligner) else None
    return Outcome(errors, audio_s, align_s, share)


def _row(condition: str, engine: str, outcome: Outcome) -> list[str]:
    summary = summarize_errors_ms(outcome.errors_ms)
    share = "—" if outcome.fallback_share is None else f"{100.0 * outcome.fallback_share:.0f} %"
    return [
        condition,
        engine,
        str(summary.count),
        f"{summary.mean_ms:.1f} ms",
        f"{summary.median_ms:.1f} ms",
        f"{summary.p90_ms:.1f} ms",
        f"{100.0 * summary.within_20ms:.0f} %",
        f"{100.0 * summary.within_50ms:.0f} %",
        share,
        f"{outcome.align_s / outcome.audio_s:.3f}",
    ]


def conditions(ja: list[str], en: list[str], folder: Path) -> Iterator[tuple[str, list[Case]]]:
    yield "ja, same voice (HTS)", list(japanese_cases(ja, None))
    for tempo_factor, semitones in STRETCHES:
        label = f"ja, WORLD ×{tempo_factor:g} tempo, {semitones:+g} st, 0.5 s noise pads"
        yield label, list(japanese_cases(ja, (tempo_factor, semitones)))
    yield "ja, eSpeak `ja` voice vs HTS reference", list(espeak_japanese_cases(ja))
    yield "en, piper joe vs eSpeak reference", list(english_cases(en, folder))
    piper_timing = list(english_cases(en, folder, piper_timing=True))
    yield "en, same, piper's timing (phone + following pad)", piper_timing


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--sentences", type=int, default=SENTENCES, help="Japanese sentences per condition")
    parser.add_argument("--en-sentences", type=int, default=EN_SENTENCES, help="English sentences")
    args = parser.parse_args()
    ja = [p.text for p in load_prompt_set("ja-paragraph").prompts[: args.sentences]]
    en = [p.text for p in load_prompt_set("en-paragraph").prompts[: args.en_sentences]]
    dtw, sphinx = DtwAligner(), sphinx_or_dtw()
    body: list[list[str]] = []
    with tempfile.TemporaryDirectory(prefix="voicestudio-bench-align-") as folder:
        for label, cases in conditions(ja, en, Path(folder)):
            body.append(_row(label, "dtw", run(cases, dtw)))
            if cases[0].language is Language.en:
                body.append(_row(label, "sphinx (dtw fallback)", run(cases, sphinx)))
            if REFINE is not None:
                body.append(_row(label, "dtw + refine", run(cases, dtw, REFINE)))
            print(f"done: {label}", file=sys.stderr)

    header = [
        "condition",
        "engine",
        "boundaries",
        "mean",
        "median",
        "p90",
        "≤ 20 ms",
        "≤ 50 ms",
        "fallback share",
        "align s / audio s",
    ]
    print(
        f"{date.today().isoformat()} — {machine()}; {args.sentences} Japanese, "
        f"{args.en_sentences} English sentences per condition"
    )
    print_table(header, body, args.markdown, text_columns=2)


if __name__ == "__main__":
    main()
