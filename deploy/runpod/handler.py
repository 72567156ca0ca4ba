"""RunPod serverless worker for voicestudio: trains one chunk per job (`voicestudio.remote.handler`).

The image (deploy/runpod/Dockerfile) runs this file; RunPod hands each job from the endpoint's queue to
`handler`. Progress goes out with `runpod.serverless.progress_update`, which RunPod shows as the job's
`output` while it is IN_PROGRESS; the result (or `{"error": …}`, which RunPod reports as FAILED) is returned.

Not imported by the studio or its tests: the `runpod` package exists only in the worker image.
"""

import os
from pathlib import Path
from typing import Any

import runpod

from voicestudio.remote.contract import ChunkProgress
from voicestudio.remote.handler import handle_chunk

# Where datasets are cached between jobs on this worker; a RunPod network volume (/runpod-volume) keeps
# them for every worker of the endpoint.
WORK_ROOT = Path(os.environ.get("VOICESTUDIO_WORK_DIR", "/tmp/voicestudio"))
PROGRESS_INTERVAL_S = float(os.environ.get("VOICESTUDIO_PROGRESS_INTERVAL_S", "5"))


def handler(job: dict[str, Any]) -> dict[str, Any]:
    """One RunPod job: its `input` is a ChunkInput; returns ChunkOutput's JSON or `{"error": message}`."""

    def send(progress: ChunkProgress) -> None:
        runpod.serverless.progress_update(job, progress.model_dump(mode="json"))

    return handle_chunk(job["input"], WORK_ROOT, send, progress_interval_s=PROGRESS_INTERVAL_S)


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})
