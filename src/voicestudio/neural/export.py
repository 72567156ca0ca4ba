"""Checkpoint → `model.onnx` + `model.onnx.json`, the files piper's runtime and onnxruntime-web read."""

import json
import warnings
from pathlib import Path
from typing import Any

import torch

from voicestudio.domain.language import Language
from voicestudio.files import write_bytes_atomic
from voicestudio.neural.checkpoints import save_atomic
from voicestudio.neural.errors import BadModel
from voicestudio.neural.model import build_model, hyperparameters_of, load_checkpoint_dict
from voicestudio.neural.training import VOICE_KEY
from voicestudio.neural.values import Checkpoint, ExportedModel

ONNX_NAME = "model.onnx"
CONFIG_NAME = "model.onnx.json"
OPSET_VERSION = 15  # what piper's own exports use, and onnxruntime-web runs
_PHONEMES_IN_EXAMPLE = 50
_LANGUAGE_CODES = {Language.en: ("en_US", "en", "English"), Language.ja: ("ja_JP", "ja", "Japanese")}


class _Synthesizer(torch.nn.Module):
    """The generator's inference pass with piper's graph signature: (input, input_lengths, scales[, sid])."""

    def __init__(self, generator: torch.nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(
        self,
        input: torch.Tensor,
        input_lengths: torch.Tensor,
        scales: torch.Tensor,
        sid: torch.Tensor | None = None,
    ) -> torch.Tensor:
        noise_scale, length_scale, noise_w = scales[0], scales[1], scales[2]
        audio = self.generator.infer(  # type: ignore[operator]
            input,
            input_lengths,
            noise_scale=noise_scale,
            length_scale=length_scale,
            noise_scale_w=noise_w,
            sid=sid,
        )[0]
        out: torch.Tensor = audio.unsqueeze(1)  # [batch, 1, 1, samples], as piper's voices give it
        return out


def export_onnx(checkpoint: Checkpoint | Path, out_dir: Path) -> ExportedModel:
    """Write `out_dir/model.onnx` (TorchScript exporter, `dynamo=False`) and its piper config, atomically."""
    path = checkpoint.path if isinstance(checkpoint, Checkpoint) else Path(checkpoint)
    try:
        contents = load_checkpoint_dict(path)
        hyperparameters = hyperparameters_of(contents)
    except Exception as exc:  # torch and pickle raise many kinds for a file that is no checkpoint
        raise BadModel.at(path, f"not a training checkpoint: {exc}") from exc
    voice = contents.get(VOICE_KEY)
    if not isinstance(voice, dict) or "phoneme_id_map" not in voice:
        raise BadModel.at(path, "it does not say which phonemes it speaks; fine-tune it on a dataset first")

    model = build_model(hyperparameters, batch_size=1)
    model.load_state_dict(contents["state_dict"], strict=False)
    del contents
    generator = model.model_g.eval()
    with torch.no_grad():
        generator.dec.remove_weight_norm()  # type: ignore[no-untyped-call]
    synthesizer = _Synthesizer(generator).eval()

    symbol_count = int(generator.n_vocab)
    speaker_count = int(generator.n_speakers)
    example_ids = torch.randint(0, symbol_count, (1, _PHONEMES_IN_EXAMPLE), dtype=torch.long)
    example: tuple[Any, ...] = (
        example_ids,
        torch.tensor([_PHONEMES_IN_EXAMPLE], dtype=torch.long),
        torch.tensor([0.667, 1.0, 0.8], dtype=torch.float32),
    )
    input_names = ["input", "input_lengths", "scales"]
    if speaker_count > 1:
        example = (*example, torch.tensor([0], dtype=torch.long))
        input_names.append("sid")

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = out_dir / ONNX_NAME
    config_path = out_dir / CONFIG_NAME

    def write_graph(target: Path) -> None:
        with torch.no_grad(), warnings.catch_warnings():
            # The TorchScript exporter (dynamo=False) warns about every data-dependent branch of
            # piper's graph and about its own deprecation; the graph is right, as piper's are.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                synthesizer,
                example,
                str(target),
                dynamo=False,
                opset_version=OPSET_VERSION,
                input_names=input_names,
                output_names=["output"],
                dynamic_axes={
                    "input": {0: "batch_size", 1: "phonemes"},
                    "input_lengths": {0: "batch_size"},
                    "output": {0: "batch_size", 3: "time"},
                },
            )

    save_atomic(write_graph, onnx_path)
    config = _piper_config(voice, hyperparameters, symbol_count, speaker_count)
    write_bytes_atomic(config_path, json.dumps(config, ensure_ascii=False, indent=2).encode("utf-8"))
    language = _language_of(config)
    return ExportedModel(
        onnx_path, config_path, int(config["audio"]["sample_rate"]), language, onnx_path.stat().st_size
    )


def _piper_config(
    voice: dict[str, Any], hyperparameters: dict[str, Any], symbol_count: int, speaker_count: int
) -> dict[str, Any]:
    """piper's voice config, as its runtime reads it, from the dataset's config saved in the checkpoint."""
    config = dict(voice)
    config["num_symbols"] = symbol_count
    config["num_speakers"] = speaker_count
    config["audio"] = {
        **dict(config.get("audio", {})),
        "sample_rate": int(
            hyperparameters.get("sample_rate", config.get("audio", {}).get("sample_rate", 22050))
        ),
        "quality": str(hyperparameters.get("voicestudio_preset", "custom")),
    }
    config["hop_length"] = int(hyperparameters.get("hop_length", 256))
    config.setdefault("inference", {"noise_scale": 0.667, "length_scale": 1.0, "noise_w": 0.8})
    espeak_voice = str(config.get("espeak", {}).get("voice", ""))
    for language, (code, family, name) in _LANGUAGE_CODES.items():
        if espeak_voice.startswith(language.value):
            config.setdefault("language", {"code": code, "family": family, "name_english": name})
    return config


def _language_of(config: dict[str, Any]) -> Language:
    family = str(config.get("language", {}).get("family", "en"))
    return Language(family) if family in Language.__members__ else Language.en
