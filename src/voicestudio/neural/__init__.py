"""Neural voices: a `VoiceEngine` turns takes into a dataset, a checkpoint, an ONNX model and speech.

This package imports no torch; the piper engine lives in `voicestudio.neural.piper`.
"""

from voicestudio.neural.engine import VoiceEngine
from voicestudio.neural.errors import (
    BadDataset,
    BadModel,
    BadSettings,
    BaseCheckpointError,
    MissingTranscript,
    NeuralError,
    NotEnoughAudio,
    UnspeakableText,
)
from voicestudio.neural.values import (
    BaseCheckpoint,
    Checkpoint,
    Dataset,
    ExportedModel,
    TrainingProgress,
    TrainingSettings,
    Utterance,
)

__all__ = [
    "BadDataset",
    "BadModel",
    "BadSettings",
    "BaseCheckpoint",
    "BaseCheckpointError",
    "Checkpoint",
    "Dataset",
    "ExportedModel",
    "MissingTranscript",
    "NeuralError",
    "NotEnoughAudio",
    "TrainingProgress",
    "TrainingSettings",
    "UnspeakableText",
    "Utterance",
    "VoiceEngine",
]
