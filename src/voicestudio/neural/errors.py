"""Why a neural voice cannot be prepared, trained, exported or spoken, with what to do about it."""

from pathlib import Path

from voicestudio.audio.errors import describe_duration
from voicestudio.errors import VoicestudioError

RECORD_PARAGRAPHS = "record the paragraph set (voicestudio prompts show en-paragraph / ja-paragraph)"


class NeuralError(VoicestudioError):
    """A neural voice step that cannot go on; the message says what to do."""


class NotEnoughAudio(NeuralError):
    """The takes hold too little speech for a voice."""

    @classmethod
    def of(cls, have_s: float, need_s: float, take_count: int) -> "NotEnoughAudio":
        takes = "take" if take_count == 1 else "takes"
        return cls(
            f"A voice needs at least {describe_duration(need_s)} of speech; the {take_count} {takes} "
            f"hold {describe_duration(have_s)}. To get more, {RECORD_PARAGRAPHS} and train again."
        )

    @classmethod
    def no_takes(cls, need_s: float) -> "NotEnoughAudio":
        return cls(
            f"There are no takes to train on; a voice needs at least {describe_duration(need_s)} "
            f"of speech. To begin, {RECORD_PARAGRAPHS}."
        )


class MissingTranscript(NeuralError):
    """A take without the text that was read, so the voice cannot learn from it."""

    @classmethod
    def of(cls, name: str) -> "MissingTranscript":
        return cls(
            f"{name}: this take has no transcript. Type the sentence that was read, "
            "or remove the take from the training set."
        )


class UnspeakableText(NeuralError):
    """Text that phonemizes to nothing the voice knows."""

    @classmethod
    def of(cls, text: str) -> "UnspeakableText":
        return cls(f"Nothing to say in {text!r}: it has no words the voice can pronounce. Type a sentence.")


class BadDataset(NeuralError):
    """A dataset folder that is missing or was not written by `prepare`."""

    @classmethod
    def at(cls, folder: Path, detail: str) -> "BadDataset":
        return cls(f"{folder}: not a prepared training set ({detail}). Prepare the dataset again.")


class BadSettings(NeuralError):
    """Training settings that cannot work, such as zero steps or an unknown device."""


class BaseCheckpointError(NeuralError):
    """A base checkpoint that cannot be fetched, does not match its sha256 or cannot be read."""

    @classmethod
    def unreachable(cls, location: str, reason: str) -> "BaseCheckpointError":
        return cls(
            f"Could not fetch the base checkpoint {location}: {reason}. Check the address and the "
            "network, or download the file yourself and give its path."
        )

    @classmethod
    def missing(cls, path: Path) -> "BaseCheckpointError":
        return cls(f"The base checkpoint {path} does not exist. Check the path in the settings.")

    @classmethod
    def bad_sha256(cls, sha256: str) -> "BaseCheckpointError":
        return cls(
            f"The sha256 given for the base checkpoint ({sha256!r}) is not 64 hexadecimal digits. "
            "Copy it again from where the checkpoint is published."
        )

    @classmethod
    def mismatch(cls, location: str, expected: str, actual: str) -> "BaseCheckpointError":
        return cls(
            f"The base checkpoint {location} has sha256 {actual}, not the expected {expected}; "
            "it was not kept. Check that the address and the sha256 belong to the same file."
        )

    @classmethod
    def unreadable(cls, location: str, detail: str) -> "BaseCheckpointError":
        return cls(
            f"The base checkpoint {location} is not a piper (VITS) training checkpoint ({detail}). "
            "Use a .ckpt file made by piper or by the studio."
        )


class BadModel(NeuralError):
    """An exported model whose files are missing or unreadable."""

    @classmethod
    def at(cls, path: Path, detail: str) -> "BadModel":
        return cls(f"{path}: not a usable voice model ({detail}). Export the model again.")
