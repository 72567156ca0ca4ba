"""Reading, writing and resampling recordings; every libsndfile failure becomes an `AudioError`."""

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import soundfile as sf
import soxr

from voicestudio.audio.errors import EmptyAudio, MissingAudio, NotAudio, TruncatedAudio
from voicestudio.files import write_bytes_atomic

_RIFF_HEADER = struct.Struct("<4sI4s")
_CHUNK_HEADER = struct.Struct("<4sI")
_FMT_BODY = struct.Struct("<HHIIHH")  # format tag, channels, rate, byte rate, block align, bits
_UNKNOWN_DATA_SIZES = frozenset({0, 0xFFFFFFFF})  # streaming writers leave the size open
_MAX_CHUNKS = 10_000
# Signatures of containers libsndfile reads; a failure on one of these means a damaged file.
_AUDIO_SIGNATURES = (b"RIFF", b"RIFX", b"RF64", b"fLaC", b"OggS", b"FORM", b"caff", b"ID3")
_OGG_PAGE_HEADER_BYTES = 27
_PCM_SUBTYPES: dict[int, str] = {16: "PCM_16", 24: "PCM_24"}


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a file's header says: rate, channels and length, read without decoding any sample."""

    path: Path
    sample_rate_hz: int
    channels: int
    frames: int
    duration_s: float
    format: str  # libsndfile's container name: "WAV", "FLAC", "OGG", ...
    subtype: str  # libsndfile's encoding name: "PCM_16", "FLOAT", "VORBIS", ...


@dataclass(frozen=True, slots=True, eq=False)
class AudioClip:
    """Mono float32 samples in [-1, 1] and their rate; the studio's in-memory recording."""

    samples: npt.NDArray[np.float32]
    sample_rate_hz: int

    def __post_init__(self) -> None:
        samples = np.ascontiguousarray(self.samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"an AudioClip is mono: expected 1-D samples, got shape {samples.shape}")
        if self.sample_rate_hz <= 0:
            raise ValueError(f"sample rate must be positive, got {self.sample_rate_hz} Hz")
        object.__setattr__(self, "samples", samples)

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.sample_rate_hz


def probe_audio(path: Path) -> AudioInfo:
    """Read only the header of `path`; raise NotAudio, TruncatedAudio or EmptyAudio when it is unusable."""
    path = Path(path)
    size_bytes = _file_size_bytes(path)
    if size_bytes == 0:
        raise EmptyAudio.at(path)
    try:
        _check_wav_layout(path, size_bytes)
    except OSError as exc:
        raise NotAudio.unreadable(path, exc.strerror or str(exc)) from exc
    try:
        info = sf.info(str(path))
    except RuntimeError as exc:  # soundfile.LibsndfileError and its older spellings
        raise _classify_open_failure(path, exc) from exc
    if info.frames <= 0:
        raise EmptyAudio.at(path)
    if str(info.format) == "OGG" and not _ogg_has_end_page(path, size_bytes):
        raise TruncatedAudio.ended_early(path, int(info.frames) / int(info.samplerate))
    return AudioInfo(
        path=path,
        sample_rate_hz=int(info.samplerate),
        channels=int(info.channels),
        frames=int(info.frames),
        duration_s=int(info.frames) / int(info.samplerate),
        format=str(info.format),
        subtype=str(info.subtype),
    )


def read_audio(path: Path, sample_rate_hz: int | None = None) -> AudioClip:
    """Decode `path` to mono float32 (mean of its channels), resampled to `sample_rate_hz` when given."""
    path = Path(path)
    info = probe_audio(path)
    try:
        frames, file_rate_hz = sf.read(str(path), dtype="float32", always_2d=True)
    except RuntimeError as exc:
        raise TruncatedAudio.damaged(path, _libsndfile_detail(exc)) from exc
    if frames.shape[0] < info.frames:
        raise TruncatedAudio.data(path, info.duration_s, frames.shape[0] / file_rate_hz)
    mono = frames[:, 0] if frames.shape[1] == 1 else frames.mean(axis=1, dtype=np.float32)
    if sample_rate_hz is None or sample_rate_hz == file_rate_hz:
        return AudioClip(mono, int(file_rate_hz))
    return AudioClip(resample(mono, int(file_rate_hz), sample_rate_hz), sample_rate_hz)


def resample(
    samples: npt.NDArray[np.float32], sample_rate_hz: int, target_rate_hz: int
) -> npt.NDArray[np.float32]:
    """The same sound at `target_rate_hz` (soxr, high quality); the length scales with the rate ratio."""
    if sample_rate_hz <= 0 or target_rate_hz <= 0:
        raise ValueError(f"sample rates must be positive, got {sample_rate_hz} Hz → {target_rate_hz} Hz")
    if sample_rate_hz == target_rate_hz:
        return np.ascontiguousarray(samples, dtype=np.float32)
    out = soxr.resample(np.ascontiguousarray(samples, dtype=np.float32), sample_rate_hz, target_rate_hz)
    return np.ascontiguousarray(out, dtype=np.float32)


def write_wav_atomic(
    path: Path,
    samples: npt.NDArray[np.floating],
    sample_rate_hz: int,
    bit_depth: Literal[16, 24] = 16,
) -> None:
    """Write PCM WAV next to `path`, then rename, so readers never see half a file; clips to [-1, 1]."""
    path = Path(path)
    if bit_depth not in _PCM_SUBTYPES:
        raise ValueError(f"bit depth must be 16 or 24, got {bit_depth}")
    if sample_rate_hz <= 0:
        raise ValueError(f"sample rate must be positive, got {sample_rate_hz} Hz")
    data = np.nan_to_num(np.asarray(samples, dtype=np.float32), nan=0.0, posinf=1.0, neginf=-1.0)
    data = np.clip(data, -1.0, 1.0)
    encoded = io.BytesIO()
    sf.write(encoded, data, sample_rate_hz, subtype=_PCM_SUBTYPES[bit_depth], format="WAV")
    write_bytes_atomic(path, encoded.getvalue())


def _file_size_bytes(path: Path) -> int:
    """Size of `path`, or the AudioError that says why it cannot be opened."""
    try:
        if path.is_dir():
            raise NotAudio.folder(path)
        return path.stat().st_size
    except FileNotFoundError as exc:
        raise MissingAudio.at(path) from exc
    except OSError as exc:
        raise NotAudio.unreadable(path, exc.strerror or str(exc)) from exc


def _check_wav_layout(path: Path, size_bytes: int) -> None:
    """Raise TruncatedAudio when a RIFF WAV ends inside its header or before its announced data.

    libsndfile quietly shortens such files to what is there, so the chunk sizes are checked here.
    """
    with path.open("rb") as f:
        head = f.read(_RIFF_HEADER.size)
        if not head.startswith(b"RIFF"[: len(head)]) or (len(head) >= 12 and head[8:12] != b"WAVE"):
            return
        if len(head) < _RIFF_HEADER.size:
            raise TruncatedAudio.header(path, size_bytes)
        pos = _RIFF_HEADER.size
        fmt: tuple[int, ...] | None = None
        for _ in range(_MAX_CHUNKS):
            f.seek(pos)
            chunk = f.read(_CHUNK_HEADER.size)
            if len(chunk) < _CHUNK_HEADER.size:
                raise TruncatedAudio.header(path, size_bytes)
            chunk_id, chunk_size = _CHUNK_HEADER.unpack(chunk)
            body_start = pos + _CHUNK_HEADER.size
            if chunk_id == b"fmt ":
                body = f.read(_FMT_BODY.size)
                if len(body) < _FMT_BODY.size:
                    raise TruncatedAudio.header(path, size_bytes)
                fmt = _FMT_BODY.unpack(body)
            elif chunk_id == b"data":
                _check_data_chunk(path, fmt, chunk_size, size_bytes - body_start)
                return
            pos = body_start + chunk_size + (chunk_size & 1)
            if pos > size_bytes:
                raise TruncatedAudio.header(path, size_bytes)


def _check_data_chunk(
    path: Path, fmt: tuple[int, ...] | None, announced_bytes: int, present_bytes: int
) -> None:
    """Compare the frames the data chunk announces with the frames the file holds."""
    if fmt is None or announced_bytes in _UNKNOWN_DATA_SIZES:
        return
    _tag, _channels, rate_hz, _byte_rate, block_align, _bits = fmt
    if rate_hz <= 0 or block_align <= 0:
        return
    announced_frames = announced_bytes // block_align
    present_frames = present_bytes // block_align
    if present_frames < announced_frames:
        raise TruncatedAudio.data(path, announced_frames / rate_hz, present_frames / rate_hz)


def _ogg_has_end_page(path: Path, size_bytes: int) -> bool:
    """Walk the Ogg page headers: True when every page is whole and the last one marks the stream's end.

    libsndfile reports a cut Ogg file as a shorter, complete one; only the missing end mark tells.
    """
    end_flag = 0x04
    last_flags = 0
    pos = 0
    with path.open("rb") as f:
        while pos < size_bytes:
            f.seek(pos)
            header = f.read(_OGG_PAGE_HEADER_BYTES)
            if len(header) < _OGG_PAGE_HEADER_BYTES or not header.startswith(b"OggS"):
                return False
            segment_sizes = f.read(header[26])
            if len(segment_sizes) < header[26]:
                return False
            pos += _OGG_PAGE_HEADER_BYTES + header[26] + sum(segment_sizes)
            if pos > size_bytes:
                return False
            last_flags = header[5]
    return bool(last_flags & end_flag)


def _classify_open_failure(path: Path, exc: RuntimeError) -> NotAudio | TruncatedAudio:
    """A recognisable container that libsndfile cannot open is damaged; anything else is not audio."""
    with path.open("rb") as f:
        head = f.read(12)
    detail = _libsndfile_detail(exc)
    if head.startswith((b"RIFF", b"RF64")):  # the chunk walk found the header complete
        return NotAudio.unsupported_encoding(path, detail)
    if head.startswith(_AUDIO_SIGNATURES):
        return TruncatedAudio.damaged(path, detail)
    return NotAudio.unrecognised(path)


def _libsndfile_detail(exc: RuntimeError) -> str:
    """libsndfile's own reason, without the file path it prepends."""
    text = str(getattr(exc, "error_string", "") or exc).strip()
    if ": " in text and text.startswith("Error opening"):
        text = text.split(": ", 1)[1]
    text = text.removeprefix("Error :").strip().rstrip(".").strip()
    return text[:1].lower() + text[1:] if text else "unknown reason"
