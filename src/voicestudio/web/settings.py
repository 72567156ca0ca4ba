"""How one studio server is set up: where its data lives, how large an upload may be, how many workers."""

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from voicestudio.db.engine import default_database_url

DEFAULT_MAX_UPLOAD_BYTES: Final = 50_000_000  # 50 MB: about 9 minutes of 48 kHz 16-bit mono
PACKAGE_STATIC_DIR: Final = Path(__file__).parent / "static"
MIN_TRAINING_AUDIO_ENV: Final = "VOICESTUDIO_MIN_TRAINING_AUDIO_S"
DEFAULT_MIN_TRAINING_AUDIO_S: Final = 60.0  # below a minute of sentences a fine-tuned voice mumbles


def min_training_audio_from_env() -> float:
    """`VOICESTUDIO_MIN_TRAINING_AUDIO_S` when set, else a minute."""
    configured = os.environ.get(MIN_TRAINING_AUDIO_ENV, "").strip()
    if not configured:
        return DEFAULT_MIN_TRAINING_AUDIO_S
    try:
        return float(configured)
    except ValueError:
        raise ValueError(
            f"{MIN_TRAINING_AUDIO_ENV} must be a number of seconds, not {configured!r}"
        ) from None


@dataclass(frozen=True, slots=True)
class StudioSettings:
    """A one-machine studio by default: SQLite and blobs under `data_dir`, one local worker process."""

    data_dir: Path = Path("data")
    database_url: str | None = None  # default: sqlite:///<data_dir>/voicestudio.db
    blob_location: str | None = None  # default: <data_dir>/blobs
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    worker_processes: int = 1  # 0: jobs wait for a worker started elsewhere
    worker_poll_interval_s: float = 0.5
    static_dir: Path = PACKAGE_STATIC_DIR
    min_training_audio_s: float = field(
        default_factory=min_training_audio_from_env
    )  # sentences a voice needs
    training_precision: str = "32-true"  # Lightning's name; bf16 measured slower on an H100

    def __post_init__(self) -> None:
        if self.max_upload_bytes <= 0:
            raise ValueError(f"max_upload_bytes must be positive, not {self.max_upload_bytes}")
        if self.worker_processes < 0:
            raise ValueError(f"worker_processes must be 0 or more, not {self.worker_processes}")
        if not self.min_training_audio_s >= 0:
            raise ValueError(f"min_training_audio_s must be 0 or more, not {self.min_training_audio_s}")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or default_database_url(self.data_dir)

    @property
    def resolved_blob_location(self) -> str:
        return self.blob_location or str(self.data_dir.absolute() / "blobs")

    @property
    def cache_dir(self) -> Path:
        """Pictures and example audio, which can always be made again."""
        return self.data_dir.absolute() / "cache"
