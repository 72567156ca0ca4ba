"""The trained voice exports to piper's model files and speaks in Python."""

import json
from pathlib import Path

import numpy as np
import onnxruntime
import pytest

from voicestudio.audio.analysis import peak_dbfs
from voicestudio.neural.errors import BadModel
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.synthesis import LoadedVoice, SynthesisScales
from voicestudio.neural.values import ExportedModel

SENTENCE = "Hello there, how are you today?"
PHONEMES_PER_SECOND = 13.0  # conversational English


def test_export_writes_a_piper_model_and_config(tiny_model: ExportedModel) -> None:
    config = json.loads(tiny_model.config_path.read_text(encoding="utf-8"))
    assert config["audio"]["sample_rate"] == 22050
    assert config["espeak"]["voice"] == "en-us"
    assert config["phoneme_type"] == "espeak"
    assert config["num_symbols"] == 256 and config["num_speakers"] == 1
    assert config["inference"] == {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8}
    assert config["phoneme_id_map"]["_"] == [0] and len(config["phoneme_id_map"]) > 100
    session = onnxruntime.InferenceSession(str(tiny_model.onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input", "input_lengths", "scales"]
    assert len(session.get_outputs()[0].shape) == 4  # [batch, 1, 1, samples] as piper's voices
    assert list(tiny_model.onnx_path.parent.glob("*.part")) == []


def test_the_voice_speaks_a_sentence_of_plausible_length(
    engine: PiperEngine, tiny_model: ExportedModel
) -> None:
    voice = LoadedVoice(tiny_model)
    phonemes = sum(1 for i in voice.phoneme_ids(SENTENCE) if i not in (0, 1, 2, 3))  # no pad/bos/eos/space
    expected_s = phonemes / PHONEMES_PER_SECOND
    audio = engine.synthesize(tiny_model, text=SENTENCE)
    assert audio.sample_rate_hz == 22050
    assert 0.3 * expected_s < audio.duration_s < 3.0 * expected_s
    assert peak_dbfs(audio.samples) > -20.0
    assert float(np.std(audio.samples)) > 0.01


def test_without_noise_the_same_ids_give_the_same_samples(tiny_model: ExportedModel) -> None:
    voice = LoadedVoice(tiny_model)
    ids = voice.phoneme_ids(SENTENCE)
    steady = SynthesisScales(noise_scale=0.0, noise_w=0.0)
    first, second = voice.speak_ids(ids, steady), voice.speak_ids(ids, steady)
    assert len(first.samples) > 0
    assert float(np.max(np.abs(first.samples - second.samples))) == 0.0


def test_a_missing_model_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(BadModel, match="the file is missing"):
        LoadedVoice(tmp_path / "model.onnx")
