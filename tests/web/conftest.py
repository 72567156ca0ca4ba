"""The web studio under test: one app per test module, on the embedded stack (a SQLite file, a blob folder
and its real worker child) unless the module asks for each stack (`from web.stacks import each_stack`)."""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from fastapi import FastAPI

from voicestudio.settings import StudioSettings
from voicestudio.storage.local import LocalBlobStore
from voicestudio.web.app import create_app
from voicestudio.web.state import Studio
from web.audio import TAKE_RATE_HZ, held_mora
from web.stacks import (
    EMBEDDED,
    ScaleServices,
    StudioClient,
    local_temporaries,
    services_for,
    stack_settings,
    stored_blobs,
)
from web.stacks import scale_services as scale_services  # the session's scale services, for every module

MORAE = {"ka": "か", "ki": "き", "sa": "さ", "ta": "た", "na": "な"}  # し: Open JTalk devoices it
UPLOAD_LIMIT_BYTES = 2_000_000  # small, so the over-limit test sends little
STATIC_FILES = {
    "index.html": "<!doctype html><title>voicestudio</title>",
    "app.mjs": "export const ready = true;\n",
    "ort.wasm": "\0asm\1\0\0\0",
}


@dataclass(frozen=True, slots=True)
class StudioUnderTest:
    """A started app, its client and its data folder (cache; on the embedded stack its database and blobs)."""

    app: FastAPI
    client: StudioClient
    data_dir: Path
    scale: ScaleServices | None = None  # the services behind a scale-stack studio

    @property
    def studio(self) -> Studio:
        studio: Studio = self.app.state.studio
        return studio

    def blob_files(self) -> list[PurePath]:
        """Every stored blob (a file, or an object's key); each one's name is its sha256."""
        return stored_blobs(self.studio.blobs)

    def incoming_files(self) -> list[str]:
        """Uploads in flight or left behind: temporary files, or temporary objects and multipart uploads."""
        if self.scale is not None:
            return self.scale.temporaries()
        blobs = self.studio.blobs
        assert isinstance(blobs, LocalBlobStore)
        return local_temporaries(blobs)


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


def static_folder(root: Path) -> Path:
    """A tiny static front end under `root`."""
    static = root / "static"
    static.mkdir()
    for name, text in STATIC_FILES.items():
        (static / name).write_text(text, encoding="utf-8")
    return static


@contextmanager
def started_studio(
    root: Path, worker_processes: int = 1, scale: ScaleServices | None = None
) -> Iterator[StudioUnderTest]:
    """A studio app under `root` (its data, and a tiny static front end), started with its lifespan;
    on the scale stack's services where `scale` is given, else on the embedded stack."""
    chosen: dict[str, Any] = {
        "data_dir": root / "data",
        "max_upload_bytes": UPLOAD_LIMIT_BYTES,
        "worker_processes": worker_processes,
        "worker_poll_interval_s": 0.1,
        "static_dir": static_folder(root),
    }
    settings = StudioSettings(**(chosen | stack_settings(scale)))
    app = create_app(settings)
    with StudioClient(app) as client:
        yield StudioUnderTest(app, client, settings.data_dir, scale)


@pytest.fixture(scope="module")
def stack() -> str:
    """The stack a module's studio runs on: embedded, unless the module imports `web.stacks.each_stack`."""
    return EMBEDDED


@contextmanager
def studio_on(
    request: pytest.FixtureRequest, stack: str, root: Path, worker_processes: int = 1
) -> Iterator[StudioUnderTest]:
    """A started studio on `stack` (a scale-stack studio's jobs go to the shared Celery worker)."""
    with started_studio(root, worker_processes, services_for(request, stack)) as started:
        yield started


@pytest.fixture(scope="module")
def studio_workers() -> int:
    """Worker children of a module's studio: one, unless a module that runs no job sets 0."""
    return 1


@pytest.fixture(scope="module")
def studio(
    request: pytest.FixtureRequest, stack: str, studio_workers: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StudioUnderTest]:
    """A studio app with its worker, started once per module (a worker child takes a second to spawn)."""
    with studio_on(request, stack, tmp_path_factory.mktemp("studio"), studio_workers) as started:
        yield started
