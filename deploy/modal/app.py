"""Modal app for voicestudio's training chunks: a GPU function and the small web endpoint the studio calls.

Deploy from the repository root with `modal deploy deploy/modal/app.py` (docs/rented-gpus.md). The web
endpoint follows Modal's job-queue pattern: POST /chunks `.spawn()`s the GPU function and answers its
call id; GET /chunks/{call_id} polls it with `FunctionCall.get(timeout=0)`; DELETE cancels it. Requests
must carry `Authorization: Bearer <VOICESTUDIO_ENDPOINT_TOKEN>` from the Modal secret
`voicestudio-endpoint`; the studio sends it from VOICESTUDIO_MODAL_TOKEN.

Not imported by the studio or its tests: the `modal` package exists only where you deploy from.
"""

import hmac
import os
from pathlib import Path
from typing import Any

import modal

APP_NAME = "voicestudio-train"
GPU = os.environ.get("VOICESTUDIO_MODAL_GPU", "L4")  # read at deploy time: "L4", "A10G", "A100", "H100"
CHUNK_TIMEOUT_S = int(os.environ.get("VOICESTUDIO_MODAL_CHUNK_TIMEOUT_S", "3600"))  # ≥ the studio's wait
REPO = Path(__file__).resolve().parents[2]

app = modal.App(APP_NAME)
secret = modal.Secret.from_name("voicestudio-endpoint")  # holds VOICESTUDIO_ENDPOINT_TOKEN
progress_board = modal.Dict.from_name("voicestudio-chunk-progress", create_if_missing=True)
datasets = modal.Volume.from_name("voicestudio-datasets", create_if_missing=True)

train_image = (
    modal.Image.debian_slim(python_version="3.11")
    .apt_install("espeak-ng", "libespeak-ng1", "libsndfile1")
    .pip_install("torch>=2.4,<3")  # the CUDA build from PyPI
    .add_local_dir(REPO / "src", "/opt/voicestudio/src", copy=True)
    .add_local_file(REPO / "pyproject.toml", "/opt/voicestudio/pyproject.toml", copy=True)
    .add_local_file(REPO / "README.md", "/opt/voicestudio/README.md", copy=True)
    .add_local_file(REPO / "LICENSE", "/opt/voicestudio/LICENSE", copy=True)
    .run_commands("pip install /opt/voicestudio")
)
web_image = modal.Image.debian_slim(python_version="3.11").pip_install("fastapi[standard]>=0.110")


@app.function(image=train_image, gpu=GPU, timeout=CHUNK_TIMEOUT_S, volumes={"/data": datasets})
def train_chunk(payload: dict[str, Any]) -> dict[str, Any]:
    """One chunk: ChunkOutput's JSON, or `{"error": message}`; progress goes to the progress board."""
    from voicestudio.remote.contract import ChunkProgress
    from voicestudio.remote.handler import handle_chunk

    call_id = modal.current_function_call_id()

    def send(progress: ChunkProgress) -> None:
        progress_board[call_id] = {"progress": progress.model_dump(mode="json")}

    def cancelled() -> bool:
        return bool((progress_board.get(call_id) or {}).get("cancelled"))

    try:
        return handle_chunk(payload, Path("/data"), send, cancelled, progress_interval_s=5.0)
    finally:
        datasets.commit()  # keep the extracted dataset for the next chunk of the same run


@app.function(image=web_image, secrets=[secret])
@modal.asgi_app()
def web() -> Any:
    """The studio's endpoint: submit, poll and cancel chunks, behind a bearer token."""
    from fastapi import Depends, FastAPI, Header, HTTPException

    api = FastAPI(title="voicestudio training chunks")
    expected = os.environ["VOICESTUDIO_ENDPOINT_TOKEN"]

    def authorised(authorization: str = Header(default="")) -> None:
        token = authorization.removeprefix("Bearer ").strip()
        if not hmac.compare_digest(token.encode(), expected.encode()):
            raise HTTPException(status_code=401, detail="missing or wrong bearer token")

    @api.post("/chunks", status_code=202, dependencies=[Depends(authorised)])
    def submit(payload: dict[str, Any]) -> dict[str, str]:
        call = train_chunk.spawn(payload)
        return {"call_id": call.object_id}

    @api.get("/chunks/{call_id}", dependencies=[Depends(authorised)])
    def status(call_id: str) -> dict[str, Any]:
        board = progress_board.get(call_id) or {}
        answer: dict[str, Any] = {"call_id": call_id, "progress": board.get("progress"), "output": None}
        if board.get("cancelled"):
            return {**answer, "status": "cancelled", "error": None}
        try:
            result = modal.FunctionCall.from_id(call_id).get(timeout=0)
        except TimeoutError:
            state = "running" if board.get("progress") else "queued"
            return {**answer, "status": state, "error": None}
        except modal.exception.OutputExpiredError:
            return {**answer, "status": "expired", "error": None}
        except modal.exception.FunctionTimeoutError:
            return {**answer, "status": "timed_out", "error": f"the chunk ran past {CHUNK_TIMEOUT_S} s"}
        except Exception as error:  # the GPU function itself crashed (out of memory, preempted, …)
            return {**answer, "status": "failed", "error": f"{type(error).__name__}: {error}"}
        if call_id in progress_board:
            progress_board.pop(call_id)  # the chunk is over; its progress is no longer asked for
        if isinstance(result, dict) and "error" in result:
            return {**answer, "status": "failed", "error": str(result["error"])}
        return {**answer, "status": "completed", "output": result, "error": None}

    @api.delete("/chunks/{call_id}", dependencies=[Depends(authorised)])
    def cancel(call_id: str) -> dict[str, str]:
        board = progress_board.get(call_id) or {}
        progress_board[call_id] = {**board, "cancelled": True}  # the function stops at its next step
        modal.FunctionCall.from_id(call_id).cancel()
        return {"call_id": call_id, "status": "cancelled"}

    return api
