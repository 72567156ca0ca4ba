"""A tiny English training set, a tiny voice trained for two steps and its export, built once per session."""

import functools
import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fixtures.speech import espeak_takes
from voicestudio.align.reference import synthesize_english
from voicestudio.audio.io import write_wav_atomic
from voicestudio.domain.language import Language
from voicestudio.neural.checkpoints import sha256_of
from voicestudio.neural.piper import PiperEngine
from voicestudio.neural.values import (
    Checkpoint,
    Dataset,
    ExportedModel,
    TrainingProgress,
    TrainingSettings,
    Utterance,
)

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "She sells sea shells by the sea shore.",
    "A stitch in time saves nine.",
    "Every cloud has a silver lining.",
)
TINY_MIN_S = 5.0  # the four sentences hold about 8 s; the studio's real minimum is a minute
TINY = TrainingSettings(preset="tiny", steps=2, batch_size=2, device="cpu", checkpoint_every_steps=1)


@dataclass(frozen=True, slots=True)
class TinyBase:
    """A tiny voice trained for two steps: its checkpoint, sha256 and the progress it reported."""

    checkpoint: Checkpoint
    sha256: str
    progress: tuple[TrainingProgress, ...]


@pytest.fixture(scope="session")
def neural_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("neural")


@pytest.fixture(scope="session")
def english_takes(neural_dir: Path) -> list[Utterance]:
    """Four eSpeak sentences: the first as a 22.05 kHz file on disk, the rest as samples with phone times."""
    first = synthesize_english(SENTENCES[0])
    path = neural_dir / "takes" / "take_01.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav_atomic(path, first.samples, first.sample_rate_hz)
    return [Utterance(path, SENTENCES[0]), *espeak_takes(SENTENCES[1:], first_number=2)]


@pytest.fixture(scope="session")
def engine() -> PiperEngine:
    return PiperEngine(min_duration_s=TINY_MIN_S)


@pytest.fixture(scope="session")
def english_dataset(engine: PiperEngine, english_takes: list[Utterance], neural_dir: Path) -> Dataset:
    return engine.prepare(english_takes, Language.en, neural_dir / "dataset")


@pytest.fixture(scope="session")
def tiny_base(engine: PiperEngine, english_dataset: Dataset, neural_dir: Path) -> TinyBase:
    progress: list[TrainingProgress] = []
    checkpoint = engine.train(english_dataset, neural_dir / "base", TINY, progress.append)
    return TinyBase(checkpoint, sha256_of(checkpoint.path), tuple(progress))


@pytest.fixture(scope="session")
def tiny_model(engine: PiperEngine, tiny_base: TinyBase, neural_dir: Path) -> ExportedModel:
    return engine.export(tiny_base.checkpoint, neural_dir / "model")


@pytest.fixture(scope="session")
def checkpoint_server(tiny_base: TinyBase) -> Iterator[str]:
    """The base checkpoint's folder served over loopback HTTP; yields the base URL (no trailing slash)."""
    handler = functools.partial(_QuietHandler, directory=str(tiny_base.checkpoint.path.parent))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """Keep the test output free of access lines."""
