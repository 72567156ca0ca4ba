"""Takes → a training set in piper's layout, at the model rate, trimmed and loudness-normalised."""

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from voicestudio.audio.analysis import integrated_loudness_lufs, leading_silence_ms, trailing_silence_ms
from voicestudio.audio.io import AudioClip, resample, write_wav_atomic
from voicestudio.audio.validate import load_take
from voicestudio.domain.alignment import Alignment
from voicestudio.domain.language import Language
from voicestudio.domain.progress import Progress, ProgressCallback, ignore_progress
from voicestudio.files import write_bytes_atomic
from voicestudio.neural.errors import BadDataset, MissingTranscript, NotEnoughAudio
from voicestudio.neural.values import Dataset, Utterance

if TYPE_CHECKING:
    from piper.train.vits.dataset import VitsDataModule

MODEL_SAMPLE_RATE_HZ = 22050  # piper's medium voices, and the rate its mel settings assume
MIN_TRAINING_AUDIO_S = 60.0  # below a minute of sentences a fine-tuned voice mumbles
TARGET_LOUDNESS_LUFS = -20.0
PEAK_LIMIT = 0.89  # -1 dBFS
EDGE_KEEP_MS = 150.0  # silence kept before the first and after the last sound
MANIFEST_NAME = "dataset.json"
_SILENT_PHONES = frozenset({"", "sil", "pau", "sp", "spn", "#", "_"})

# piper's phonemizer and espeak voice for each language the studio records.
PHONEMIZERS: dict[Language, tuple[str, str]] = {
    Language.en: ("en-us", "espeak"),
    Language.ja: ("ja", "japanese"),  # OpenJTalk (pyopenjtalk) → IPA with accent marks, offline
}


def prepare_dataset(
    utterances: Sequence[Utterance],
    language: Language,
    out_dir: Path,
    *,
    min_duration_s: float = MIN_TRAINING_AUDIO_S,
    on_progress: ProgressCallback = ignore_progress,
) -> Dataset:
    """Write the takes as piper's training set under `out_dir` (replacing it whole) and cache its features.

    Every transcript is checked before any audio is read; the folder appears only once complete.
    """
    out_dir = Path(out_dir)
    if not utterances:
        raise NotEnoughAudio.no_takes(min_duration_s)
    for utterance in utterances:
        if not utterance.text.strip():
            raise MissingTranscript.of(utterance.label)

    clips: list[npt.NDArray[np.float32]] = []
    for index, utterance in enumerate(utterances, start=1):
        clips.append(_training_samples(utterance))
        on_progress(Progress("dataset", index, len(utterances) + 1, utterance.label))
    duration_s = sum(len(c) for c in clips) / MODEL_SAMPLE_RATE_HZ
    if duration_s < min_duration_s:
        raise NotEnoughAudio.of(duration_s, min_duration_s, len(utterances))

    espeak_voice, phoneme_type = PHONEMIZERS[language]
    dataset = Dataset(
        out_dir, language, MODEL_SAMPLE_RATE_HZ, len(clips), duration_s, espeak_voice, phoneme_type
    )
    part_dir = out_dir.with_name(out_dir.name + ".part")
    shutil.rmtree(part_dir, ignore_errors=True)
    try:
        _write_layout(Dataset(part_dir, *_fields_after_root(dataset)), utterances, clips)
        _replace_dir(part_dir, out_dir)
    finally:
        shutil.rmtree(part_dir, ignore_errors=True)
    on_progress(Progress("dataset", len(utterances) + 1, len(utterances) + 1, "features"))
    return dataset


def load_dataset(root_dir: Path) -> Dataset:
    """The dataset `prepare_dataset` wrote under `root_dir`, from its manifest."""
    root_dir = Path(root_dir)
    manifest = root_dir / MANIFEST_NAME
    try:
        fields = json.loads(manifest.read_text(encoding="utf-8"))
        return Dataset(
            root_dir=root_dir,
            language=Language(fields["language"]),
            sample_rate_hz=int(fields["sample_rate_hz"]),
            utterance_count=int(fields["utterance_count"]),
            duration_s=float(fields["duration_s"]),
            espeak_voice=str(fields["espeak_voice"]),
            phoneme_type=str(fields["phoneme_type"]),
        )
    except FileNotFoundError as exc:
        raise BadDataset.at(root_dir, f"no {MANIFEST_NAME}") from exc
    except (ValueError, KeyError, TypeError) as exc:
        raise BadDataset.at(root_dir, f"{MANIFEST_NAME} is damaged: {exc}") from exc


def _fields_after_root(dataset: Dataset) -> tuple[Language, int, int, float, str, str]:
    return (
        dataset.language,
        dataset.sample_rate_hz,
        dataset.utterance_count,
        dataset.duration_s,
        dataset.espeak_voice,
        dataset.phoneme_type,
    )


def _training_samples(utterance: Utterance) -> npt.NDArray[np.float32]:
    """The take at the model rate, cut to its speech with a little room, at a common loudness."""
    clip = utterance.audio if isinstance(utterance.audio, AudioClip) else load_take(utterance.audio)
    samples = resample(clip.samples, clip.sample_rate_hz, MODEL_SAMPLE_RATE_HZ)
    samples = _trimmed(samples, utterance.alignment)
    return _normalised(samples)


def _trimmed(samples: npt.NDArray[np.float32], alignment: Alignment | None) -> npt.NDArray[np.float32]:
    """Cut to the first and last phone of the alignment, or to where the level says the voice is."""
    rate = MODEL_SAMPLE_RATE_HZ
    duration_ms = 1000.0 * len(samples) / rate
    spoken = [s for s in alignment.segments if s.phone not in _SILENT_PHONES] if alignment else []
    if spoken:
        start_ms, end_ms = spoken[0].start_ms, spoken[-1].end_ms
    else:
        start_ms = leading_silence_ms(samples, rate)
        end_ms = duration_ms - trailing_silence_ms(samples, rate)
    if end_ms <= start_ms:
        return samples
    first = max(0, int((start_ms - EDGE_KEEP_MS) * rate / 1000.0))
    last = min(len(samples), int(np.ceil((end_ms + EDGE_KEEP_MS) * rate / 1000.0)))
    return np.ascontiguousarray(samples[first:last])


def _normalised(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Gain to TARGET_LOUDNESS_LUFS, less when the peak would pass -1 dBFS."""
    loudness = integrated_loudness_lufs(samples, MODEL_SAMPLE_RATE_HZ)
    peak = float(np.max(np.abs(samples))) if len(samples) else 0.0
    if peak <= 0.0:
        return samples
    gain = 10.0 ** ((TARGET_LOUDNESS_LUFS - loudness) / 20.0)
    gain = min(gain, PEAK_LIMIT / peak)
    louder: npt.NDArray[np.float32] = (samples * gain).astype(np.float32)
    return louder


def _write_layout(
    dataset: Dataset, utterances: Sequence[Utterance], clips: Sequence[npt.NDArray[np.float32]]
) -> None:
    """wavs/, metadata.csv (id|text), piper's feature cache and config.json, then our manifest."""
    dataset.wav_dir.mkdir(parents=True)
    rows = []
    for index, (utterance, samples) in enumerate(zip(utterances, clips, strict=True), start=1):
        utt_id = f"{index:04d}"
        write_wav_atomic(dataset.wav_dir / f"{utt_id}.wav", samples, dataset.sample_rate_hz)
        rows.append(f"{utt_id}|{' '.join(utterance.text.replace('|', ' ').split())}\n")
    write_bytes_atomic(dataset.csv_path, "".join(rows).encode("utf-8"))
    data_module(dataset, batch_size=1).prepare_data()  # type: ignore[no-untyped-call]
    manifest = {
        "language": dataset.language.value,
        "sample_rate_hz": dataset.sample_rate_hz,
        "utterance_count": dataset.utterance_count,
        "duration_s": dataset.duration_s,
        "espeak_voice": dataset.espeak_voice,
        "phoneme_type": dataset.phoneme_type,
    }
    write_bytes_atomic(dataset.root_dir / MANIFEST_NAME, json.dumps(manifest, indent=2).encode("utf-8"))


def data_module(dataset: Dataset, batch_size: int) -> "VitsDataModule":
    """piper's Lightning data module over the prepared set: no silence trimming (done here), no validation."""
    from piper.train.vits.dataset import VitsDataModule

    return VitsDataModule(
        csv_path=dataset.csv_path,
        cache_dir=dataset.cache_dir,
        espeak_voice=dataset.espeak_voice,
        config_path=dataset.config_path,
        voice_name=dataset.root_dir.name,
        sample_rate=dataset.sample_rate_hz,
        audio_dir=dataset.wav_dir,
        batch_size=batch_size,
        num_workers=0,
        trim_silence=False,
        validation_split=0.0,
        num_test_examples=0,
        phoneme_type=dataset.phoneme_type,
    )


def _replace_dir(new_dir: Path, target: Path) -> None:
    """Put the finished `new_dir` at `target`, moving an older one aside first and removing it after."""
    old_dir = target.with_name(target.name + ".old")
    shutil.rmtree(old_dir, ignore_errors=True)
    if target.exists():
        target.replace(old_dir)
    new_dir.replace(target)
    shutil.rmtree(old_dir, ignore_errors=True)
