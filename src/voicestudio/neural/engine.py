"""The `VoiceEngine` protocol: takes → dataset → checkpoint → exported model → speech."""

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from voicestudio.audio.io import AudioClip
from voicestudio.domain.language import Language
from voicestudio.domain.progress import ProgressCallback
from voicestudio.neural.values import (
    Checkpoint,
    Dataset,
    ExportedModel,
    TrainingProgressCallback,
    TrainingSettings,
    Utterance,
)


class VoiceEngine(Protocol):
    """A neural TTS engine the studio can train and run; every step reads and writes plain folders."""

    def prepare(
        self,
        utterances: Sequence[Utterance],
        language: Language,
        out_dir: Path,
        on_progress: ProgressCallback,
    ) -> Dataset:
        """Write a training set for `utterances` under `out_dir`; refuse too little or untranscribed audio."""
        ...

    def train(
        self,
        dataset: Dataset,
        out_dir: Path,
        settings: TrainingSettings,
        on_progress: TrainingProgressCallback,
    ) -> Checkpoint:
        """Train (or resume training in `out_dir`) up to `settings.steps`; return the last checkpoint."""
        ...

    def export(self, checkpoint: Checkpoint, out_dir: Path) -> ExportedModel:
        """Write the model files the runtime (Python or browser) loads."""
        ...

    def synthesize(
        self, model: ExportedModel, text: str | None = None, phoneme_ids: Sequence[int] | None = None
    ) -> AudioClip:
        """Speak text (or phoneme ids) with an exported model."""
        ...
