"""How one studio server is set up, from arguments, `VOICESTUDIO_*` environment variables or a `.env` file.

The defaults make a one-machine studio (SQLite and blobs under `data_dir`, one local worker process);
the same settings pointed at PostgreSQL, S3 and a Redis broker serve many users.
"""

from pathlib import Path
from typing import Final, Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from voicestudio.db.engine import default_database_url

DEFAULT_MAX_UPLOAD_BYTES: Final = 50_000_000  # 50 MB: about 9 minutes of 48 kHz 16-bit mono
PACKAGE_STATIC_DIR: Final = Path(__file__).parent / "web" / "static"
ENV_PREFIX: Final = "VOICESTUDIO_"


class StudioSettings(BaseSettings):
    """Every setting of a studio server and its workers; each field is also `VOICESTUDIO_<NAME>`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    # Where things live.
    data_dir: Path = Path("data")
    database_url: str | None = None  # default: sqlite:///<data_dir>/voicestudio.db
    blob_location: str | None = None  # default: <data_dir>/blobs; or s3://bucket/prefix?endpoint_url=...
    static_dir: Path = PACKAGE_STATIC_DIR

    # PostgreSQL connection pool, per process (API server or worker).
    db_pool_size: int = Field(default=5, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_recycle_s: float = Field(default=1800.0, gt=0)

    # Uploads and training data.
    max_upload_bytes: int = Field(default=DEFAULT_MAX_UPLOAD_BYTES, gt=0)
    min_training_audio_s: float = Field(default=60.0, ge=0)  # below a minute a fine-tuned voice mumbles
    training_precision: str = "32-true"  # Lightning's name; bf16 measured slower on an H100

    # Jobs: "local" runs worker children of this server; "celery" sends jobs to Celery workers.
    job_backend: Literal["local", "celery"] = "local"
    worker_processes: int = Field(default=1, ge=0)  # local backend; 0: jobs wait for a worker elsewhere
    worker_poll_interval_s: float = Field(default=0.5, gt=0)
    job_heartbeat_interval_s: float = Field(default=2.0, gt=0)  # a running job says its worker is alive
    job_stale_after_s: float = Field(default=20.0, gt=0)  # silent this long: its worker died, take it over
    broker_url: str = "redis://127.0.0.1:6379/0"  # Celery broker and progress pub/sub
    celery_visibility_timeout_s: float = Field(default=3600.0, gt=0)  # longer than one training chunk
    training_chunk_steps: int = Field(default=500, ge=1)  # Celery/rented GPUs: steps per task
    gpu_backend: Literal["worker", "runpod", "modal"] = "worker"  # where training chunks run
    runpod_endpoint_url: str | None = None  # https://api.runpod.ai/v2/<endpoint_id>
    runpod_api_key: SecretStr | None = None
    modal_endpoint_url: str | None = None  # the deployed web endpoint of the training function
    modal_token: SecretStr | None = None
    remote_poll_interval_s: float = Field(default=5.0, gt=0)
    remote_timeout_s: float = Field(default=3600.0, gt=0)

    # Accounts and plans: off, the studio has one local user who may do everything.
    accounts_enabled: bool = False
    session_lifetime_s: float = Field(default=14 * 24 * 3600.0, gt=0)
    secure_cookies: bool = False  # set behind HTTPS
    plans_file: Path | None = None  # JSON plans; default: the built-in free and pro plans
    default_plan: str = "free"
    gpu_price_per_hour_usd: float = Field(default=2.5, ge=0)

    # Operations.
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    metrics_token: SecretStr | None = None  # set: /metrics answers only scrapers that send it as a bearer

    @model_validator(mode="after")
    def _backends_are_configured(self) -> "StudioSettings":
        if self.gpu_backend == "runpod" and not self.runpod_endpoint_url:
            raise ValueError("gpu_backend runpod needs runpod_endpoint_url (https://api.runpod.ai/v2/<id>)")
        if self.gpu_backend == "modal" and not self.modal_endpoint_url:
            raise ValueError("gpu_backend modal needs modal_endpoint_url (the deployed web endpoint)")
        return self

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
