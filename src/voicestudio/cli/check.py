"""`voicestudio check`: the quality table for takes, with pictures on request."""

from pathlib import Path

from rich.console import Console
from rich.table import Table

from voicestudio.audio.batch import TakeCheck, check_takes, find_audio_files
from voicestudio.audio.io import read_audio
from voicestudio.audio.pictures import draw_take_pictures
from voicestudio.cli.progress import progress_bar
from voicestudio.domain import QualityReport

_VERDICT_STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def check_command(paths: list[Path], png_dir: Path | None, console: Console) -> int:
    """Check files and folders, print the table, draw pictures; exit code 1 when any take failed."""
    files = find_audio_files(paths)
    if not files:
        console.print(
            "No audio files found (looked for .wav, .flac and .ogg). Name files or folders holding them."
        )
        return 1
    with progress_bar("checking takes", console) as on_progress:
        results = check_takes(files, on_progress=on_progress)
    console.print(results_table(results))
    if png_dir is not None:
        drawn = draw_pictures(results, png_dir)
        console.print(f"Drew {drawn} pictures in {png_dir}")
    return 1 if any(result.failed for result in results) else 0


def results_table(results: list[TakeCheck]) -> Table:
    """One row per file: verdict, the key numbers, and what to do."""
    table = Table(title="Take quality", show_lines=True)
    columns = ("file", "verdict", "length", "peak", "clipped", "loudness", "SNR", "f0 median", "what to do")
    for column in columns:
        table.add_column(column, overflow="fold")
    for result in results:
        table.add_row(result.path.name, *_row(result))
    return table


def _row(result: TakeCheck) -> tuple[str, ...]:
    report = result.report
    if report is None:
        return ("[red]fail[/red]", "", "", "", "", "", "", result.error or "")
    return (
        f"[{_VERDICT_STYLE[report.verdict]}]{report.verdict}[/]",
        f"{report.duration_ms / 1000:.1f} s",
        f"{report.peak_dbfs:.1f} dBFS",
        f"{report.clipped_ratio * 100:.2f} %",
        f"{report.loudness_lufs:.1f} LUFS",
        f"{report.snr_db:.0f} dB",
        _f0_text(report),
        "\n".join(report.reasons) or "nothing: it is good",
    )


def _f0_text(report: QualityReport) -> str:
    return f"{report.f0_median_hz:.0f} Hz" if report.f0_median_hz > 0 else "no voice"


def draw_pictures(results: list[TakeCheck], png_dir: Path) -> int:
    """Waveform, spectrogram and f0 pictures for every usable take; returns how many were written."""
    png_dir.mkdir(parents=True, exist_ok=True)
    drawn = 0
    for result in results:
        if result.report is not None:
            drawn += len(draw_take_pictures(read_audio(result.path), png_dir, result.path.stem))
    return drawn
