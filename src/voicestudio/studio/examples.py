"""Example audio of a prompt, spoken by the studio's own synthesizer, so a singer hears what to record."""

import hashlib
import io
from pathlib import Path

import soundfile as sf

from voicestudio.align.reference import ReferenceSpeech, synthesize_phonemes, synthesize_reference
from voicestudio.domain import Language, Prompt, PromptSet, PromptSetKind
from voicestudio.errors import VoicestudioError
from voicestudio.oto.folder import speak_reading
from voicestudio.oto.units import file_reading
from voicestudio.studio.cache import read_cached, write_cached
from voicestudio.studio.catalog import RECLIST_KINDS
from voicestudio.studio.errors import NotFound
from voicestudio.text.prompts import load_prompt_set


def example_wav(prompt_set: str, prompt_id: str, cache_dir: Path) -> bytes:
    """The prompt spoken as 16-bit WAV: synthesized on the first request, then read from `cache_dir`."""
    chosen = load_prompt_set(prompt_set)
    prompt = next((p for p in chosen.prompts if p.id == prompt_id), None)
    if prompt is None:
        raise NotFound(f"The prompt set {prompt_set!r} has no prompt {prompt_id!r}. Reload the prompt list.")
    digest = hashlib.sha256(f"{prompt_set}\0{prompt_id}".encode()).hexdigest()[:32]
    cached_path = cache_dir / "examples" / prompt_set / f"{digest}.wav"
    cached = read_cached(cached_path)
    if cached is not None:
        return cached
    speech = _speak(chosen, prompt)
    encoded = io.BytesIO()
    sf.write(encoded, speech.samples, speech.sample_rate_hz, subtype="PCM_16", format="WAV")
    data = encoded.getvalue()
    write_cached(cached_path, data)
    return data


def _speak(prompt_set: PromptSet, prompt: Prompt) -> ReferenceSpeech:
    """Japanese reclist lines mora by mora as written, ARPAsing lines by their phonemes, sentences as text."""
    try:
        if prompt_set.language is Language.ja and prompt_set.kind in RECLIST_KINDS:
            return speak_reading(file_reading(prompt.wav_name), Language.ja)
        if prompt_set.kind is PromptSetKind.arpasing:
            return synthesize_phonemes(prompt.phonemes, prompt_set.language)
        return synthesize_reference(prompt.text, prompt_set.language)
    except VoicestudioError:
        raise
    except ValueError:  # a breath prompt: nothing to say
        raise NotFound(
            f"The prompt {prompt.id!r} ({prompt.text}) has no words to speak, so it has no example. "
            "Record it as its text describes."
        ) from None
