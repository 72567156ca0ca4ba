"""How long the audio part takes per minute of recording: quality report, reading, resampling, pictures.

Run: `python bench/audio.py` (add `--markdown` for a table to paste into bench/RESULTS.md).
Speech-like audio is Open JTalk's voice saying a few sentences, repeated to length over faint room hiss.
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.table import Table

from machine import machine
from voicestudio.audio.io import AudioClip, read_audio, write_wav_atomic
from voicestudio.audio.pictures import draw_take_pictures
from voicestudio.audio.quality import assess

SENTENCES = (
    "こんにちは、今日はいい天気ですね。",
    "あらゆる現実を、すべて自分のほうへねじ曲げたのだ。",
    "週末は友達と海へ行って、たくさん泳ぎました。",
)
RATE_HZ = 48000
LENGTHS_S = (10, 60, 300)
RUNS = 3
HISS_DBFS = -70.0


def speech_like(duration_s: float) -> npt.NDArray[np.float32]:
    """Synthesized sentences with 0.4 s pauses, repeated to `duration_s`, peak -3 dBFS, over faint hiss."""
    import pyopenjtalk

    pause = np.zeros(int(0.4 * RATE_HZ))
    pieces: list[npt.NDArray[np.float64]] = []
    for sentence in SENTENCES:
        samples, rate_hz = pyopenjtalk.tts(sentence)
        assert rate_hz == RATE_HZ
        pieces += [np.asarray(samples, dtype=np.float64), pause]
    one_pass = np.concatenate(pieces)
    one_pass *= 10.0 ** (-3.0 / 20.0) / np.max(np.abs(one_pass))
    n = round(duration_s * RATE_HZ)
    speech = np.tile(one_pass, n // len(one_pass) + 1)[:n]
    hiss = np.random.default_rng(0).normal(0.0, 10.0 ** (HISS_DBFS / 20.0), n)
    return (speech + hiss).astype(np.float32)


def median_s(work: Callable[[], object], runs: int = RUNS) -> float:
    """Median wall time of `runs` calls, in seconds."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(folder: Path) -> list[dict[str, float]]:
    """One row of timings per length."""
    rows = []
    for length_s in LENGTHS_S:
        samples = speech_like(length_s)
        path = folder / f"speech_{length_s}s.wav"
        write_wav_atomic(path, samples, RATE_HZ)
        clip = AudioClip(samples, RATE_HZ)
        assess_s = median_s(partial(assess, clip))
        read_s = median_s(partial(read_audio, path))
        resample_s = median_s(partial(read_audio, path, 44100))
        pictures_s = median_s(partial(draw_take_pictures, clip, folder, f"pictures_{length_s}s"))
        rows.append(
            {
                "length_s": length_s,
                "assess_s": assess_s,
                "assess_per_min_s": assess_s * 60.0 / length_s,
                "read_s": read_s,
                "read_resample_s": resample_s,
                "read_resample_per_min_s": resample_s * 60.0 / length_s,
                "pictures_s": pictures_s,
            }
        )
    return rows


COLUMNS = (
    ("audio", "length_s", "{:.0f} s"),
    ("assess (median of 3)", "assess_s", "{:.2f} s"),
    ("assess per audio minute", "assess_per_min_s", "{:.2f} s"),
    ("read 48 kHz WAV", "read_s", "{:.3f} s"),
    ("read + resample → 44.1 kHz", "read_resample_s", "{:.3f} s"),
    ("read + resample per audio minute", "read_resample_per_min_s", "{:.3f} s"),
    ("3 pictures", "pictures_s", "{:.2f} s"),
)


def markdown(rows: list[dict[str, float]], where: str) -> str:
    """The figures as a Markdown section for bench/RESULTS.md."""
    lines = [
        "## audio",
        "",
        f"{date.today().isoformat()} — {where}",
        "",
        "`python bench/audio.py`: 48 kHz 16-bit mono speech-like audio (Open JTalk sentences repeated over",
        f"{HISS_DBFS:.0f} dBFS hiss); each figure is the median of {RUNS} runs.",
        "`assess` is the full quality report (levels, clipping, loudness, noise floor, SNR, silences,",
        "f0 by DIO + StoneMask at 16 kHz in 10 s blocks); `3 pictures` is `draw_take_pictures`.",
        "",
        "| " + " | ".join(title for title, _, _ in COLUMNS) + " |",
        "|" + "---:|" * len(COLUMNS),
    ]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[key]) for _, key, fmt in COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--markdown", action="store_true", help="also print a Markdown section")
    args = parser.parse_args()
    console = Console()
    where = machine()
    console.print(f"machine: {where}")
    with tempfile.TemporaryDirectory(prefix="voicestudio-bench-") as folder:
        rows = measure(Path(folder))
    table = Table(title="audio: time per take")
    for title, _, _ in COLUMNS:
        table.add_column(title, justify="right")
    for row in rows:
        table.add_row(*(fmt.format(row[key]) for _, key, fmt in COLUMNS))
    console.print(table)
    if args.markdown:
        print(markdown(rows, where))


if __name__ == "__main__":
    main()
