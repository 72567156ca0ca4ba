"""Why a recording cannot be used, in words that also say what to do about it.

Each error has a class-method constructor per situation, so the wording lives here and every
message names the file, the number that is wrong and the action that fixes it.
"""

from pathlib import Path

from voicestudio.errors import VoicestudioError

SUPPORTED_FORMATS = "WAV, FLAC or OGG"


def describe_duration(duration_s: float) -> str:
    """A duration as a person reads it: "0.12 s", "3.4 s", "12 min 5 s", "2 h 0 min"."""
    if duration_s < 1.0:
        return f"{duration_s:.2f} s"
    if duration_s < 60.0:
        return f"{duration_s:.1f} s"
    whole_s = round(duration_s)
    if whole_s < 3600:
        minutes, seconds = divmod(whole_s, 60)
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, rest_s = divmod(whole_s, 3600)
    return f"{hours} h {rest_s // 60} min"


def describe_rate(sample_rate_hz: int) -> str:
    """A sample rate as a person reads it: "44.1 kHz", "8 kHz"."""
    return f"{sample_rate_hz / 1000:g} kHz"


class AudioError(VoicestudioError):
    """A recording that cannot be read or used, with what to do about it."""


class MissingAudio(AudioError):
    """The path names no file."""

    @classmethod
    def at(cls, path: Path) -> "MissingAudio":
        return cls(f"{path.name}: there is no such file at {path}. Check the path and try again.")


class NotAudio(AudioError):
    """The file is not a recording the studio can read."""

    @classmethod
    def unrecognised(cls, path: Path) -> "NotAudio":
        return cls(
            f"{path.name}: this is not an audio file the studio can read. "
            f"Export the take as {SUPPORTED_FORMATS} and try again."
        )

    @classmethod
    def unsupported_encoding(cls, path: Path, detail: str) -> "NotAudio":
        return cls(
            f"{path.name}: the file looks like audio but its encoding cannot be read ({detail}). "
            "Export it again as 16- or 24-bit PCM WAV."
        )

    @classmethod
    def unreadable(cls, path: Path, reason: str) -> "NotAudio":
        return cls(f"{path.name}: the file cannot be opened ({reason}). Check its permissions and try again.")

    @classmethod
    def folder(cls, path: Path) -> "NotAudio":
        return cls(f"{path.name}: this is a folder, not a recording. Name one audio file.")


class TruncatedAudio(AudioError):
    """The file stops before the audio its header announces."""

    @classmethod
    def header(cls, path: Path, size_bytes: int) -> "TruncatedAudio":
        return cls(
            f"{path.name}: the file is cut off inside its header ({size_bytes} bytes). "
            "The upload or copy stopped early; save or upload the take again."
        )

    @classmethod
    def data(cls, path: Path, announced_s: float, present_s: float) -> "TruncatedAudio":
        return cls(
            f"{path.name}: the file is cut off: its header announces {describe_duration(announced_s)} "
            f"of audio but only {describe_duration(present_s)} is there. "
            "The upload or copy stopped early; save or upload the take again."
        )

    @classmethod
    def ended_early(cls, path: Path, present_s: float) -> "TruncatedAudio":
        return cls(
            f"{path.name}: the file is cut off after {describe_duration(present_s)}: it lacks the end mark "
            "a finished recording has. The upload or copy stopped early; save or upload the take again."
        )

    @classmethod
    def damaged(cls, path: Path, detail: str) -> "TruncatedAudio":
        return cls(
            f"{path.name}: the file is cut short or damaged ({detail}). Export or upload the take again."
        )


class EmptyAudio(AudioError):
    """The file holds no audio at all."""

    @classmethod
    def at(cls, path: Path) -> "EmptyAudio":
        return cls(
            f"{path.name}: the file holds no audio (0 samples). "
            "The recording did not start; check the microphone and record it again."
        )


class SilentAudio(AudioError):
    """The file holds audio, but nothing louder than the silence threshold."""

    @classmethod
    def at(cls, path: Path, peak_dbfs: float, threshold_dbfs: float) -> "SilentAudio":
        return cls(
            f"{path.name}: the recording is silent (loudest point {peak_dbfs:.0f} dBFS, below "
            f"{threshold_dbfs:.0f} dBFS). Check that the right microphone is selected and not muted, "
            "then record it again."
        )


class TooShort(AudioError):
    """The take is shorter than any prompt can be."""

    @classmethod
    def at(cls, path: Path, duration_s: float, min_duration_s: float) -> "TooShort":
        return cls(
            f"{path.name}: the recording is only {describe_duration(duration_s)} long; a take must be at "
            f"least {describe_duration(min_duration_s)}. Record the whole prompt again."
        )


class TooLong(AudioError):
    """The take is longer than one prompt should ever be."""

    @classmethod
    def at(cls, path: Path, duration_s: float, max_duration_s: float) -> "TooLong":
        return cls(
            f"{path.name}: the recording is {describe_duration(duration_s)} long; a take may be at most "
            f"{describe_duration(max_duration_s)}. Split it or record each prompt on its own."
        )


class SampleRateTooLow(AudioError):
    """The take was recorded at a sample rate too low for a voice."""

    @classmethod
    def at(cls, path: Path, sample_rate_hz: int, min_sample_rate_hz: int) -> "SampleRateTooLow":
        return cls(
            f"{path.name}: the recording's sample rate is {describe_rate(sample_rate_hz)}; a voice needs "
            f"at least {describe_rate(min_sample_rate_hz)}. Set the recorder to 44.1 or 48 kHz and "
            "record it again."
        )
