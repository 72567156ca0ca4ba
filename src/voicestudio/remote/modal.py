"""Modal: a web endpoint (`deploy/modal/app.py`) in front of a GPU function, in Modal's job-queue pattern.

The endpoint's small HTTP contract, defined by the studio: POST `{url}/chunks` with the ChunkInput →
`{"call_id"}` (the GPU function `.spawn()`ed); GET `/chunks/{call_id}` → `{"call_id", "status", "progress",
"output", "error"}` (`FunctionCall.get(timeout=0)`); DELETE `/chunks/{call_id}` cancels it. The endpoint
checks `Authorization: Bearer <token>` against the token it was deployed with.
"""

from typing import Final

from voicestudio.remote.answers import output_of, progress_of, refuse
from voicestudio.remote.contract import ChunkInput, RemoteState, RemoteStatus
from voicestudio.remote.errors import RemoteBadAnswer, RemoteGpuError, without_secrets
from voicestudio.remote.transport import DEFAULT_RETRY, JsonAnswer, JsonHttp, RetryPolicy

SERVICE: Final = "Modal"
CHUNKS_PATH: Final = "/chunks"
EXPIRED: Final = "expired"  # Modal keeps a spawned call's result for a limited time (OutputExpiredError)
STATES: Final = {state.value: state for state in RemoteState} | {EXPIRED: RemoteState.failed}
DEPLOY_HINT: Final = "Deploy deploy/modal/app.py of this studio's version."


class ModalEndpoint:
    """The deployed web endpoint of the studio's Modal app, `https://<workspace>--<app>-web.modal.run`."""

    name = "modal"

    def __init__(self, endpoint_url: str, token: str, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        if not token:
            raise RemoteGpuError(
                "gpu_backend is modal but no token is set. Set VOICESTUDIO_MODAL_TOKEN to the token the "
                "Modal app was deployed with (its Modal secret voicestudio-endpoint)."
            )
        self.endpoint_url = endpoint_url.rstrip("/")
        self._http = JsonHttp(
            SERVICE,
            self.endpoint_url,
            {"Authorization": f"Bearer {token}"},
            "Set VOICESTUDIO_MODAL_TOKEN to the VOICESTUDIO_ENDPOINT_TOKEN of the Modal secret "
            "voicestudio-endpoint.",
            retry,
        )

    def __repr__(self) -> str:
        return f"ModalEndpoint({without_secrets(self.endpoint_url)!r})"

    def describe_run(self, run_id: str) -> str:
        return f"Modal call {run_id} at {without_secrets(self.endpoint_url)}"

    def submit(self, inputs: ChunkInput, timeout_s: float) -> str:
        answer = self._http.call("POST", CHUNKS_PATH, inputs.model_dump(mode="json"))
        self._refuse(answer, "submit the training chunk")
        call_id = answer.body.get("call_id") if isinstance(answer.body, dict) else None
        if not isinstance(call_id, str) or not call_id:
            raise RemoteBadAnswer(
                f"The Modal endpoint accepted the training chunk but gave no call id ({answer.body!r:.200}). "
                "Check that VOICESTUDIO_MODAL_ENDPOINT_URL is the web endpoint of deploy/modal/app.py."
            )
        return call_id

    def status(self, run_id: str) -> RemoteStatus:
        answer = self._http.call("GET", f"{CHUNKS_PATH}/{run_id}")
        self._refuse(answer, f"read the status of call {run_id}")
        body = answer.body if isinstance(answer.body, dict) else {}
        name = str(body.get("status", ""))
        state = STATES.get(name)
        if state is None:
            raise RemoteBadAnswer(
                f"The Modal endpoint reported call {run_id} as {name!r}, which the studio does not know. "
                "Deploy deploy/modal/app.py of this studio's version."
            )
        error = body.get("error")
        if name == EXPIRED:
            error = "Modal no longer keeps this call's result; it finished too long ago."
        return RemoteStatus(
            run_id=run_id,
            state=state,
            progress=progress_of(body.get("progress")),
            output=output_of(body.get("output"), self.describe_run(run_id), DEPLOY_HINT)
            if state is RemoteState.completed
            else None,
            error=None if error is None else str(error),
        )

    def cancel(self, run_id: str) -> None:
        answer = self._http.call("DELETE", f"{CHUNKS_PATH}/{run_id}")
        self._refuse(answer, f"cancel call {run_id}")

    def _refuse(self, answer: JsonAnswer, doing: str) -> None:
        refuse(
            answer,
            "The Modal endpoint",
            doing,
            not_found=f"Check VOICESTUDIO_MODAL_ENDPOINT_URL (now {without_secrets(self.endpoint_url)}).",
            otherwise="See the app's logs in the Modal dashboard, then train again.",
        )
