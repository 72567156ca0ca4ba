"""A recording of one prompt."""

from dataclasses import dataclass

from voicestudio.domain.quality import QualityReport


@dataclass(frozen=True, slots=True)
class Take:
    """One recorded attempt at a prompt; the audio lives in the blob store under `blob_key`."""

    id: str
    project_id: str
    prompt_id: str
    blob_key: str
    sample_rate_hz: int
    duration_ms: float
    quality: QualityReport | None = None
