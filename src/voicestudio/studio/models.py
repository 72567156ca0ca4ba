"""What the studio shows about a neural voice model (`ModelCard`), read from piper's `model.onnx.json` and
the card the export wrote; and the models folder, `<data_dir>/models/<id>/` with `model.onnx`,
`model.onnx.json` and an optional `card.json`, where the local user may put models exported by the CLI.

The studio's trained models live in the database and the blob store (`studio.voice_models`); this folder
is only read.
"""

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from voicestudio.studio.errors import NotFound, StudioError

_LOG = logging.getLogger("voicestudio.studio.models")

MODELS_FOLDER: Final = "models"
MODEL_FILE: Final = "model.onnx"
CONFIG_FILE: Final = "model.onnx.json"
CARD_FILE: Final = "card.json"
MODEL_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")  # one folder name: no "/", no "..", no "."
ModelFileName = Literal["model.onnx", "model.onnx.json"]


class ModelUnreadable(StudioError):
    """A model folder whose config or card is not valid JSON of the expected shape."""


@dataclass(frozen=True, slots=True)
class ModelCard:
    """What the studio shows about one voice model: from its piper config, its card and its file size."""

    id: str
    name: str
    language: str  # piper's language code ("en_US"), or the espeak voice when the config has none
    phoneme_type: str  # "espeak": the browser phonemizes it; anything else needs the server
    espeak_voice: str
    sample_rate_hz: int
    model_bytes: int
    size: str | None = None  # the training preset: "tiny", "medium"
    steps: int | None = None
    training_time_s: float | None = None
    device: str | None = None
    consent_sentence: str | None = None


def models_dir(data_dir: Path) -> Path:
    """The models folder of a studio with data in `data_dir` (models put there by hand)."""
    return data_dir.absolute() / MODELS_FOLDER


def check_model_id(model_id: str) -> str:
    """`model_id` when it names one folder inside the models folder; NotFound otherwise (no path tricks)."""
    if not MODEL_ID.fullmatch(model_id) or ".." in model_id:
        raise NotFound(
            f"There is no model {model_id!r}: model ids are letters, digits, '-', '_' and '.'. "
            "Pick one from /api/models."
        )
    return model_id


def parse_json_object(data: bytes, name: str) -> dict[str, Any]:
    """`data` as a JSON object; ModelUnreadable naming `name` (e.g. `joe/model.onnx.json`) otherwise."""
    try:
        loaded = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelUnreadable(f"{name} cannot be read ({error}). Export the model again.") from error
    if not isinstance(loaded, dict):
        raise ModelUnreadable(f"{name} is not a JSON object. Export the model again.")
    return loaded


def _read_json(path: Path) -> dict[str, Any]:
    name = f"{path.parent.name}/{path.name}"
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ModelUnreadable(f"{name} cannot be read ({error}). Export the model again.") from error
    return parse_json_object(data, name)


def _optional(card: dict[str, Any], key: str, kind: type) -> Any:
    value = card.get(key)
    if value is None:
        return None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ModelUnreadable(f"card.json: {key} should be a {kind.__name__}, not {value!r}. Fix or drop it.")
    return value


def model_card(model_id: str, config: dict[str, Any], card: dict[str, Any], model_bytes: int) -> ModelCard:
    """The card of model `model_id` from its piper config, its card fields and its ONNX file's size."""
    try:
        espeak_voice = str(config.get("espeak", {}).get("voice", ""))
        sample_rate_hz = int(config["audio"]["sample_rate"])
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelUnreadable(
            f"{model_id}/{CONFIG_FILE} has no audio.sample_rate: not a piper config. Export it again."
        ) from error
    language = config.get("language", {}).get("code") if isinstance(config.get("language"), dict) else None
    return ModelCard(
        id=model_id,
        name=_optional(card, "name", str) or model_id,
        language=str(language or espeak_voice),
        phoneme_type=str(config.get("phoneme_type", "espeak")),
        espeak_voice=espeak_voice,
        sample_rate_hz=sample_rate_hz,
        model_bytes=model_bytes,
        size=_optional(card, "size", str),
        steps=_optional(card, "steps", int),
        training_time_s=_optional(card, "training_time_s", float),
        device=_optional(card, "device", str),
        consent_sentence=_optional(card, "consent_sentence", str),
    )


def read_model_card(folder: Path) -> ModelCard:
    """The card of the model in `folder`; NotFound without model.onnx + model.onnx.json."""
    model, config_path = folder / MODEL_FILE, folder / CONFIG_FILE
    if not model.is_file() or not config_path.is_file():
        raise NotFound(f"There is no model {folder.name!r} (it needs {MODEL_FILE} and {CONFIG_FILE}).")
    card = _read_json(folder / CARD_FILE) if (folder / CARD_FILE).is_file() else {}
    return model_card(folder.name, _read_json(config_path), card, model.stat().st_size)


def list_folder_models(folder: Path) -> list[ModelCard]:
    """Every readable model under `folder`, by id; a folder that is not a model (yet) is left out."""
    if not folder.is_dir():
        return []
    cards = []
    for child in sorted(folder.iterdir()):
        if not child.is_dir() or not MODEL_ID.fullmatch(child.name):
            continue
        try:
            cards.append(read_model_card(child))
        except NotFound:
            continue  # not a model, or one still being copied in
        except ModelUnreadable as error:
            _LOG.warning("model %s left out of the list: %s", child.name, error.message)
    return cards


def get_folder_model(folder: Path, model_id: str) -> ModelCard:
    """The card of one model of the folder; NotFound when there is no such model."""
    return read_model_card(folder / check_model_id(model_id))


def model_file(folder: Path, model_id: str, name: ModelFileName) -> Path:
    """The path of a model's ONNX file or piper config, for download; NotFound when missing."""
    get_folder_model(folder, model_id)
    return folder / model_id / name
