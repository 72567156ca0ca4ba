"""The web studio under test: one app with its real worker child per test module, on a SQLite file."""

import warnings
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from fastapi import FastAPI

from voicestudio.web.app import create_app
from voicestudio.web.settings import StudioSettings
from web.audio import TAKE_RATE_HZ, held_mora

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette asks for httpx2 instead of httpx; both work
    from starlette.testclient import TestClient

MORAE = {"ka": "か", "ki": "き", "sa": "さ", "ta": "た", "na": "な"}  # し: Open JTalk devoices it
UPLOAD_LIMIT_BYTES = 2_000_000  # small, so the over-limit test sends little
STATIC_FILES = {
    "index.html": "<!doctype html><title>voicestudio</title>",
    "app.mjs": "export const ready = true;\n",
    "ort.wasm": "\0asm\1\0\0\0",
}


@dataclass(frozen=True, slots=True)
class StudioUnderTest:
    """A started app, its client and the folder that holds its database and blobs."""

    app: FastAPI
    client: TestClient
    data_dir: Path

    def blob_files(self) -> list[Path]:
        return sorted(path for path in (self.data_dir / "blobs" / "sha256").rglob("*") if path.is_file())

    def incoming_files(self) -> list[Path]:
        return sorted((self.data_dir / "blobs" / ".incoming").glob("*"))


@pytest.fixture(scope="session")
def sung() -> dict[str, npt.NDArray[np.float32]]:
    """Held CV morae (ka, ki, sa, ta, na) at 44.1 kHz, named by their ja-cv prompt id."""
    with ThreadPoolExecutor(4) as pool:
        return dict(zip(MORAE, pool.map(held_mora, MORAE.values()), strict=True))


@pytest.fixture(scope="session")
def takes(sung: dict[str, npt.NDArray[np.float32]]) -> dict[str, bytes]:
    """The held morae as the WAV files the browser uploads."""
    from web.audio import wav_bytes

    return {prompt_id: wav_bytes(samples, TAKE_RATE_HZ) for prompt_id, samples in sung.items()}


@contextmanager
def started_studio(root: Path, worker_processes: int = 1) -> Iterator[StudioUnderTest]:
    """A studio app under `root` (its data, and a tiny static front end), started with its lifespan."""
    static = root / "static"
    static.mkdir()
    for name, text in STATIC_FILES.items():
        (static / name).write_text(text, encoding="utf-8")
    settings = StudioSettings(
        data_dir=root / "data",
        max_upload_bytes=UPLOAD_LIMIT_BYTES,
        worker_processes=worker_processes,
        worker_poll_interval_s=0.1,
        static_dir=static,
    )
    app = create_app(settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield StudioUnderTest(app, client, settings.data_dir)


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StudioUnderTest]:
    """A studio app with its worker child, started once per module (the worker takes a second to spawn)."""
    with started_studio(tmp_path_factory.mktemp("studio")) as started:
        yield started
