"""Speaking with an exported voice in Python: text → piper's phonemes → ids → onnxruntime → samples."""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from piper.config import SynthesisConfig
from piper.voice import PiperVoice

from voicestudio.audio.io import AudioClip
from voicestudio.neural.errors import BadModel, UnspeakableText
from voicestudio.neural.values import ExportedModel


@dataclass(frozen=True, slots=True)
class SynthesisScales:
    """VITS sampling knobs; None takes the model config's value. Noise 0 makes the output repeatable."""

    noise_scale: float | None = None
    length_scale: float | None = None  # > 1 speaks slower
    noise_w: float | None = None


class LoadedVoice:
    """An exported model opened once in onnxruntime, for speaking many sentences."""

    def __init__(self, model: ExportedModel | Path) -> None:
        onnx_path = model.onnx_path if isinstance(model, ExportedModel) else Path(model)
        config_path = (
            model.config_path
            if isinstance(model, ExportedModel)
            else onnx_path.with_name(onnx_path.name + ".json")
        )
        for path in (onnx_path, config_path):
            if not path.is_file():
                raise BadModel.at(path, "the file is missing")
        try:
            self._voice = PiperVoice.load(onnx_path, config_path=config_path)
        except Exception as exc:  # onnxruntime and json raise many kinds for a damaged file
            raise BadModel.at(
                onnx_path, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            ) from exc

    @property
    def sample_rate_hz(self) -> int:
        return int(self._voice.config.sample_rate)

    def phoneme_ids(self, text: str) -> list[int]:
        """The ids the model reads for `text`, every sentence after the other."""
        ids: list[int] = []
        for sentence in self._voice.phonemize(text):
            if sentence:
                ids.extend(self._voice.phonemes_to_ids(sentence))
        return ids

    def speak(self, text: str, scales: SynthesisScales = SynthesisScales()) -> AudioClip:
        """`text` spoken, sentence after sentence, each peak-normalised as piper does."""
        chunks = [chunk.audio_float_array for chunk in self._voice.synthesize(text, self._config(scales))]
        if not chunks:
            raise UnspeakableText.of(text)
        return AudioClip(np.concatenate(chunks).astype(np.float32), self.sample_rate_hz)

    def speak_ids(self, phoneme_ids: Sequence[int], scales: SynthesisScales = SynthesisScales()) -> AudioClip:
        """The raw model output for these phoneme ids (not normalised), as onnxruntime-web would give it."""
        if not phoneme_ids:
            raise UnspeakableText.of("")
        audio = self._voice.phoneme_ids_to_audio(list(phoneme_ids), self._config(scales))
        samples: npt.NDArray[np.float32] = np.asarray(audio if not isinstance(audio, tuple) else audio[0])
        return AudioClip(samples.astype(np.float32).reshape(-1), self.sample_rate_hz)

    @staticmethod
    def _config(scales: SynthesisScales) -> SynthesisConfig:
        return SynthesisConfig(
            noise_scale=scales.noise_scale, length_scale=scales.length_scale, noise_w_scale=scales.noise_w
        )


def synthesize(
    model: ExportedModel | Path,
    text: str | None = None,
    phoneme_ids: Sequence[int] | None = None,
    scales: SynthesisScales = SynthesisScales(),
) -> AudioClip:
    """Speak `text` or `phoneme_ids` (exactly one) with an exported model."""
    if (text is None) == (phoneme_ids is None):
        raise ValueError("give exactly one of text and phoneme_ids")
    voice = LoadedVoice(model)
    return voice.speak(text, scales) if text is not None else voice.speak_ids(phoneme_ids or [], scales)
