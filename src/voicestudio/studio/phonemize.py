"""Text → piper phonemes and a model's phoneme ids, by piper's own phonemizer for the model's config; the
browser asks for it for voices it cannot phonemize itself (Japanese: OpenJTalk with pitch-accent marks)."""

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, cast

from piper import PiperVoice
from piper.config import PhonemeType, PiperConfig

from voicestudio.studio.errors import StudioError
from voicestudio.studio.models import CONFIG_FILE, ModelUnreadable

# The types whose phonemizer runs offline with what the studio installs (pinyin downloads g2pW; hebrew
# and thai need extra packages).
SUPPORTED_PHONEME_TYPES: Final = (PhonemeType.ESPEAK, PhonemeType.JAPANESE, PhonemeType.TEXT)
MAX_TEXT_CHARS: Final = 5_000
VOICES_KEPT: Final = 8  # phonemizers kept warm, one per model config


class UnsupportedPhonemeType(StudioError):
    """A model whose `phoneme_type` the studio has no phonemizer for."""


class NothingToPhonemize(StudioError):
    """Empty or blank text, or more text than one request may carry."""


@dataclass(frozen=True, slots=True)
class PhonemizedText:
    """Piper's phonemes and the model's ids for them (^ _ (id _)* $), one tuple per sentence;
    `missing_phonemes`: phonemes the model's id map lacks, which the ids leave out as piper does."""

    phoneme_type: str
    phonemes: tuple[tuple[str, ...], ...]
    phoneme_ids: tuple[tuple[int, ...], ...]
    missing_phonemes: tuple[str, ...]


_VOICES: OrderedDict[str, PiperVoice] = OrderedDict()  # newest last
_VOICES_LOCK = threading.Lock()


def _phonemizing_voice(config: Mapping[str, Any], name: str) -> PiperVoice:
    """A piper voice for `config` that can phonemize but not speak (no ONNX session is loaded)."""
    raw_type = str(config.get("phoneme_type", PhonemeType.ESPEAK.value))
    supported = ", ".join(repr(kind.value) for kind in SUPPORTED_PHONEME_TYPES)
    if raw_type not in {kind.value for kind in SUPPORTED_PHONEME_TYPES}:
        raise UnsupportedPhonemeType(
            f"{name} uses phoneme type {raw_type!r}, which the studio cannot phonemize (it knows "
            f"{supported}; Japanese is piper's 'japanese'). Use a voice with one of those phoneme types."
        )
    try:
        piper_config = PiperConfig.from_dict(dict(config))
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise ModelUnreadable(
            f"{name} is not a piper config (missing or bad {error}). Export the model again."
        ) from error
    return PiperVoice(session=cast(Any, None), config=piper_config)  # phonemize() never touches the session


def _phonemize(voice: PiperVoice, text: str) -> PhonemizedText:
    if not text.strip():
        raise NothingToPhonemize("There is no text to phonemize: type some words first.")
    if len(text) > MAX_TEXT_CHARS:
        raise NothingToPhonemize(
            f"The text has {len(text)} characters; one request takes at most {MAX_TEXT_CHARS}. Split it."
        )
    sentences = [sentence for sentence in voice.phonemize(text) if sentence]
    id_map = voice.config.phoneme_id_map
    missing = sorted({phoneme for sentence in sentences for phoneme in sentence if phoneme not in id_map})
    return PhonemizedText(
        phoneme_type=voice.config.phoneme_type.value,
        phonemes=tuple(tuple(sentence) for sentence in sentences),
        phoneme_ids=tuple(tuple(voice.phonemes_to_ids(sentence)) for sentence in sentences),
        missing_phonemes=tuple(missing),
    )


def phonemize_with_config(config: Mapping[str, Any], text: str) -> PhonemizedText:
    """`text` phonemized and mapped to ids as piper does for a voice with this `model.onnx.json` content."""
    return _phonemize(_phonemizing_voice(config, CONFIG_FILE), text)


def phonemize_for_model(tag: str, config: Mapping[str, Any], model_id: str, text: str) -> PhonemizedText:
    """`text` as the model `model_id` with this piper `config` reads it; the phonemizing voice is kept per
    `tag` (which changes whenever the config does), so OpenJTalk and espeak stay loaded between requests."""
    with _VOICES_LOCK:
        voice = _VOICES.pop(tag, None)
    if voice is None:
        voice = _phonemizing_voice(config, f"Model {model_id!r}")
    with _VOICES_LOCK:
        _VOICES[tag] = voice
        while len(_VOICES) > VOICES_KEPT:
            _VOICES.popitem(last=False)
    return _phonemize(voice, text)
