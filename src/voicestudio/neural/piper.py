"""piper (VITS, `piper-tts[train]`) behind the `VoiceEngine` protocol, in this process, on CPU or GPU."""

from collections.abc import Sequence
from pathlib import Path

from voicestudio.audio.io import AudioClip
from voicestudio.domain.language import Language
from voicestudio.domain.progress import ProgressCallback, ignore_progress
from voicestudio.neural.dataset import MIN_TRAINING_AUDIO_S, prepare_dataset
from voicestudio.neural.export import export_onnx
from voicestudio.neural.synthesis import LoadedVoice
from voicestudio.neural.training import train_voice
from voicestudio.neural.values import (
    Checkpoint,
    Dataset,
    ExportedModel,
    TrainingProgressCallback,
    TrainingSettings,
    Utterance,
    ignore_training_progress,
)


class PiperEngine:
    """The default engine: piper's dataset layout, Lightning training, ONNX export, onnxruntime synthesis."""

    def __init__(self, min_duration_s: float = MIN_TRAINING_AUDIO_S) -> None:
        self.min_duration_s = min_duration_s
        self._voices: dict[tuple[Path, int], LoadedVoice] = {}

    def prepare(
        self,
        utterances: Sequence[Utterance],
        language: Language,
        out_dir: Path,
        on_progress: ProgressCallback = ignore_progress,
    ) -> Dataset:
        return prepare_dataset(
            utterances, language, out_dir, min_duration_s=self.min_duration_s, on_progress=on_progress
        )

    def train(
        self,
        dataset: Dataset,
        out_dir: Path,
        settings: TrainingSettings,
        on_progress: TrainingProgressCallback = ignore_training_progress,
    ) -> Checkpoint:
        return train_voice(dataset, out_dir, settings, on_progress)

    def export(self, checkpoint: Checkpoint, out_dir: Path) -> ExportedModel:
        return export_onnx(checkpoint, out_dir)

    def synthesize(
        self, model: ExportedModel, text: str | None = None, phoneme_ids: Sequence[int] | None = None
    ) -> AudioClip:
        if (text is None) == (phoneme_ids is None):
            raise ValueError("give exactly one of text and phoneme_ids")
        key = (model.onnx_path, model.onnx_path.stat().st_mtime_ns)
        voice = self._voices.get(key)
        if voice is None:
            voice = self._voices[key] = LoadedVoice(model)
        return voice.speak(text) if text is not None else voice.speak_ids(phoneme_ids or [])
