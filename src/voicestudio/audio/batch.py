"""Quality checks over many files or folders, as the CLI's `check` and the API's re-check run them."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from voicestudio.audio.quality import check_take
from voicestudio.audio.validate import DEFAULT_TAKE_LIMITS, TakeLimits
from voicestudio.domain import Progress, ProgressCallback, QualityReport, ignore_progress
from voicestudio.errors import VoicestudioError

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg"})


@dataclass(frozen=True, slots=True)
class TakeCheck:
    """The outcome for one file: a report, or the reason it could not be used at all."""

    path: Path
    report: QualityReport | None
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.report is not None and self.report.verdict == "fail")


def find_audio_files(paths: Iterable[Path]) -> list[Path]:
    """Files as given, plus every audio file under the given folders, in name order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES))
        else:
            found.append(path)
    return found


def check_takes(
    files: Sequence[Path],
    limits: TakeLimits = DEFAULT_TAKE_LIMITS,
    on_progress: ProgressCallback = ignore_progress,
) -> list[TakeCheck]:
    """Check every file; a file that cannot be used becomes a failed result with its message, not an error."""
    results: list[TakeCheck] = []
    for index, path in enumerate(files, start=1):
        try:
            results.append(TakeCheck(path, check_take(path, limits)))
        except VoicestudioError as error:
            results.append(TakeCheck(path, None, error.message))
        on_progress(Progress("check", index, len(files), path.name))
    return results
