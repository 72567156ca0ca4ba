"""How close the `dtw` aligner puts phone boundaries to the true ones, and how long it takes.

Run: `python bench/align.py` (add `--markdown` for a table to paste into bench/RESULTS.md).
Conditions: Japanese in the reference's own voice; the same re-spoken by WORLD slower/faster and
lower/higher with 0.5 s of faint noise around it; English by piper `joe` against eSpeak's reference.
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.speech import natural_english
from fixtures.stretch import PAD_MS, WORLD_RATE_HZ, stretched_take
from machine import machine
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.metrics import matching_start_errors_ms, summarize_errors_ms
from voicestudio.align.reference import synthesize_japanese
from voicestudio.audio.io import read_audio
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.text.prompts import load_prompt_set

SENTENCES = 5
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


@dataclass(frozen=True, slots=True)
class Outcome:
    errors_ms: npt.NDArray[np.float64]
    audio_s: float
    align_s: float


def japanese_cases(texts: list[str], stretch: tuple[float, float] | None) -> Iterator[Case]:
    for text in texts:
        speech = synthesize_japanese(text)
        if stretch is None:
            yield Case(speech.samples, speech.sample_rate_hz, text, Language.ja, speech.alignment)
            continue
        tempo_factor, semitones = stretch
        take = stretched_take(speech.samples, speech.sample_rate_hz, tempo_factor, semitones)
        yield Case(take, WORLD_RATE_HZ, text, Language.ja, speech.alignment, tempo_factor, PAD_MS)


def english_cases(texts: list[str], folder: Path) -> Iterator[Case]:
    for number, text in enumerate(texts):
        fixture = natural_english(text, folder, f"en_{number}")
        clip = read_audio(fixture.wav_path)
        yield Case(clip.samples, clip.sample_rate_hz, text, Language.en, fixture.alignment)


def run(cases: Iterator[Case]) -> Outcome:
    aligner = DtwAligner()
    errors: list[npt.NDArray[np.float64]] = []
    audio_s = align_s = 0.0
    for case in cases:
        started = time.perf_counter()
        found = aligner.align(case.samples, case.sample_rate_hz, case.text, case.language)
        align_s += time.perf_counter() - started
        audio_s += len(case.samples) / case.sample_rate_hz
        errors.append(matching_start_errors_ms(found, case.truth, case.scale, case.shift_ms))
    return Outcome(np.concatenate(errors), audio_s, align_s)


def _row(label: str, outcome: Outcome) -> list[str]:
    summary = summarize_errors_ms(outcome.errors_ms)
    return [
        label,
        str(summary.count),
        f"{summary.mean_ms:.1f} ms",
        f"{summary.median_ms:.1f} ms",
        f"{summary.p90_ms:.1f} ms",
        f"{100.0 * summary.within_20ms:.0f} %",
        f"{100.0 * summary.within_50ms:.0f} %",
        f"{outcome.align_s / outcome.audio_s:.3f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--sentences", type=int, default=SENTENCES)
    args = parser.parse_args()
    ja = [p.text for p in load_prompt_set("ja-paragraph").prompts[: args.sentences]]
    en = [p.text for p in load_prompt_set("en-paragraph").prompts[: args.sentences]]
    rows: list[tuple[str, Outcome]] = [("ja, same voice (HTS)", run(japanese_cases(ja, None)))]
    for tempo_factor, semitones in STRETCHES:
        label = f"ja, WORLD ×{tempo_factor:g} tempo, {semitones:+g} st, 0.5 s noise pads"
        rows.append((label, run(japanese_cases(ja, (tempo_factor, semitones)))))
    with tempfile.TemporaryDirectory(prefix="voicestudio-bench-align-") as folder:
        rows.append(("en, piper joe vs eSpeak reference", run(english_cases(en, Path(folder)))))

    header = ["condition", "boundaries", "mean", "median", "p90", "≤ 20 ms", "≤ 50 ms", "align s / audio s"]
    body = [_row(label, outcome) for label, outcome in rows]
    print(f"{date.today().isoformat()} — {machine()}; {args.sentences} sentences per condition")
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|---" + "|---:" * (len(header) - 1) + "|")
        for row in body:
            print("| " + " | ".join(row) + " |")
        return
    table = Table(*header)
    for row in body:
        table.add_row(*row)
    Console().print(table)


if __name__ == "__main__":
    main()
