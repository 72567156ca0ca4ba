"""Does speaker-adapted refinement over a whole reclist bring the `dtw` boundaries closer to the truth?

Run: `python bench/refine.py` (add `--markdown` for a table to paste).
Conditions: a Japanese reclist (30 CV files + 8 VCV strings, spoken by HTS) re-spoken by WORLD slower
and lower / faster and higher with 0.5 s of faint noise around each take; 10 English sentences by piper
`joe` aligned against eSpeak's reference. Each is aligned by `dtw`, then refined with several settings.
"""

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fixtures.speech import natural_english
from fixtures.stretch import PAD_MS, WORLD_RATE_HZ, stretched_take
from machine import machine, print_table
from voicestudio.align.dtw import DtwAligner
from voicestudio.align.metrics import matching_start_errors_ms, summarize_errors_ms
from voicestudio.align.reference import synthesize_japanese
from voicestudio.align.refine import RefineSettings, refine_alignments_with
from voicestudio.audio.io import read_audio
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.text.kana import romaji_to_kana
from voicestudio.text.prompts import load_prompt_set

CV_NAMES = (
    "a", "ka", "ki", "sa", "shi", "tsu", "te", "na", "hi", "fu", "ma", "yo", "ru", "wa", "ga",
    "ji", "do", "ba", "pa", "kya", "しゃ", "チュ", "ryo", "ん", "ko", "se", "to", "ni", "mu", "re",
)  # fmt: skip
VCV_NAMES = (
    "_akaakiaku", "_あさあしあす", "_いないにいぬ", "_おがおごおん",
    "_ataateato", "_umaumiumu", "_esaeseeso", "_oraoreoro",
)  # fmt: skip
STRETCHES = ((0.85, -3.0), (1.15, 3.0))
ENGLISH_SENTENCES = 10
GROSS_MS = 200.0  # a take with any boundary this far off is a dtw failure refinement cannot reach
VARIANTS: tuple[tuple[str, RefineSettings, int], ...] = (
    ("refined (default: 2 mix, ±60 ms, σ 10 ms, 3 rounds)", RefineSettings(), 3),
    ("refined, 1 round", RefineSettings(), 1),
    ("refined, 1 mixture", RefineSettings(mixtures=1), 3),
    ("refined, 4 mixtures", RefineSettings(mixtures=4), 3),
    ("refined, ±30 ms window", RefineSettings(window_ms=30.0), 3),
    (
        "plain Viterbi (no prior, silence edges move)",
        RefineSettings(boundary_sigma_ms=float("inf"), acoustic_scale=1.0, keep_silence_edges=False),
        3,
    ),
)


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    """Takes of one speaker, their dtw alignments and the true ones (mapped by scale and shift)."""

    label: str
    takes: list[tuple[npt.NDArray[np.float32], int]]
    dtw: list[Alignment]
    dtw_s: float
    truth: list[Alignment]
    scale: float = 1.0
    shift_ms: float = 0.0

    def errors_ms(
        self, found: list[Alignment], keep: Callable[[int], bool] = lambda _: True
    ) -> npt.NDArray[np.float64]:
        return np.concatenate(
            [
                matching_start_errors_ms(a, t, self.scale, self.shift_ms)
                for number, (a, t) in enumerate(zip(found, self.truth, strict=True))
                if keep(number)
            ]
        )


def spoken_text(name: str) -> str:
    """What the singer says for a reclist file name: its morae, as kana."""
    stem = name.lstrip("_")
    return romaji_to_kana(stem) if stem.isascii() else stem


def japanese_conditions() -> list[Condition]:
    texts = [spoken_text(name) for name in CV_NAMES + VCV_NAMES]
    with ThreadPoolExecutor(4) as pool:
        speech = list(pool.map(synthesize_japanese, texts))
    conditions = []
    for tempo_factor, semitones in STRETCHES:
        takes = [
            (stretched_take(s.samples, s.sample_rate_hz, tempo_factor, semitones), WORLD_RATE_HZ)
            for s in speech
        ]
        dtw, dtw_s = align_all(takes, texts, Language.ja)
        label = f"ja reclist ({len(texts)} takes), WORLD ×{tempo_factor:g} tempo, {semitones:+g} st"
        conditions.append(
            Condition(label, takes, dtw, dtw_s, [s.alignment for s in speech], tempo_factor, PAD_MS)
        )
    return conditions


def english_condition(sentences: int, folder: Path) -> Condition:
    texts = [p.text for p in load_prompt_set("en-paragraph").prompts[:sentences]]
    fixtures = [natural_english(text, folder, f"en_{number}") for number, text in enumerate(texts)]
    clips = [read_audio(f.wav_path) for f in fixtures]
    takes = [(clip.samples, clip.sample_rate_hz) for clip in clips]
    dtw, dtw_s = align_all(takes, texts, Language.en)
    return Condition(
        f"en, {len(texts)} sentences, piper joe vs eSpeak", takes, dtw, dtw_s, [f.alignment for f in fixtures]
    )


def align_all(
    takes: list[tuple[npt.NDArray[np.float32], int]], texts: list[str], language: Language
) -> tuple[list[Alignment], float]:
    aligner = DtwAligner()
    started = time.perf_counter()
    found = [
        aligner.align(samples, rate, text, language)
        for (samples, rate), text in zip(takes, texts, strict=True)
    ]
    return found, time.perf_counter() - started


def _row(condition: str, aligner: str, errors_ms: npt.NDArray[np.float64], seconds: float) -> list[str]:
    summary = summarize_errors_ms(errors_ms)
    return [
        condition,
        aligner,
        str(summary.count),
        f"{summary.mean_ms:.1f} ms",
        f"{summary.median_ms:.1f} ms",
        f"{summary.p90_ms:.1f} ms",
        f"{100.0 * summary.within_20ms:.0f} %",
        f"{100.0 * summary.within_50ms:.0f} %",
        f"{seconds:.1f} s",
    ]


def rows_for(condition: Condition) -> list[list[str]]:
    """dtw and every variant, on all takes and (where dtw failed on some) on the takes it did not fail."""
    refined: list[tuple[str, list[Alignment], float]] = []
    for label, settings, rounds in VARIANTS:
        started = time.perf_counter()
        found = refine_alignments_with(settings, condition.takes, condition.dtw, iterations=rounds)
        refined.append((label, found, time.perf_counter() - started))
    failed = {
        number
        for number, (a, t) in enumerate(zip(condition.dtw, condition.truth, strict=True))
        if matching_start_errors_ms(a, t, condition.scale, condition.shift_ms).max(initial=0.0) > GROSS_MS
    }
    views: list[tuple[str, Callable[[int], bool]]] = [(condition.label, lambda _: True)]
    if failed:
        views.append(
            (
                f"{condition.label}, without the {len(failed)} takes dtw misplaced by > {GROSS_MS:.0f} ms",
                lambda number: number not in failed,
            )
        )
    rows = []
    for label, keep in views:
        rows.append(_row(label, "dtw", condition.errors_ms(condition.dtw, keep), condition.dtw_s))
        rows.extend(_row(label, name, condition.errors_ms(found, keep), s) for name, found, s in refined)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--sentences", type=int, default=ENGLISH_SENTENCES, help="English sentences")
    args = parser.parse_args()
    conditions = japanese_conditions()
    with tempfile.TemporaryDirectory(prefix="voicestudio-bench-refine-") as folder:
        conditions.append(english_condition(args.sentences, Path(folder)))
    body = [row for condition in conditions for row in rows_for(condition)]

    header = ["condition", "aligner", "boundaries", "mean", "median", "p90", "≤ 20 ms", "≤ 50 ms", "seconds"]
    print(f"{date.today().isoformat()} — {machine()}")
    print_table(header, body, args.markdown, text_columns=2)


if __name__ == "__main__":
    main()
