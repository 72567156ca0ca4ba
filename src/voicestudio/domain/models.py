"""A trained neural voice, ready to run in the browser."""

from dataclasses import dataclass

from voicestudio.domain.language import Language


@dataclass(frozen=True, slots=True)
class VoiceModel:
    """An exported voice: `model.onnx` + `model.onnx.json` in the blob store."""

    id: str
    project_id: str
    language: Language
    sample_rate_hz: int
    onnx_blob_key: str
    config_blob_key: str
    steps: int
    training_seconds: float
    device: str
