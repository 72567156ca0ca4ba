"""RunPod serverless: a queue-based endpoint whose workers run `deploy/runpod/handler.py`.

The documented API: POST `{endpoint}/run` with `{"input": …}` → `{"id", "status"}`; GET `/status/{id}` →
`{"id", "status", "output", "error", "delayTime", "executionTime"}` (ms); POST `/cancel/{id}`;
every call with `Authorization: Bearer <API key>`. While a job runs, `output` holds the handler's last
`progress_update`.
"""

from typing import Any, Final

from voicestudio.remote.answers import output_of, progress_of, refuse, text_of
from voicestudio.remote.contract import ChunkInput, RemoteState, RemoteStatus
from voicestudio.remote.errors import RemoteBadAnswer, RemoteGpuError, without_secrets
from voicestudio.remote.transport import DEFAULT_RETRY, JsonAnswer, JsonHttp, RetryPolicy

SERVICE: Final = "RunPod"
STATES: Final = {
    "IN_QUEUE": RemoteState.queued,
    "IN_PROGRESS": RemoteState.running,
    "COMPLETED": RemoteState.completed,
    "FAILED": RemoteState.failed,
    "CANCELLED": RemoteState.cancelled,
    "TIMED_OUT": RemoteState.timed_out,
}
MIN_EXECUTION_TIMEOUT_MS: Final = 5001  # RunPod refuses an execution timeout of 5 s or less
DEPLOY_HINT: Final = "Deploy the voicestudio handler of this studio's version (docs/rented-gpus.md)."


class RunPodEndpoint:
    """One serverless endpoint, `https://api.runpod.ai/v2/<endpoint id>`."""

    name = "runpod"

    def __init__(self, endpoint_url: str, api_key: str, retry: RetryPolicy = DEFAULT_RETRY) -> None:
        if not api_key:
            raise RemoteGpuError(
                "gpu_backend is runpod but no API key is set. Set VOICESTUDIO_RUNPOD_API_KEY to a RunPod "
                "API key (console → Settings → API Keys) with access to the endpoint."
            )
        self.endpoint_url = endpoint_url.rstrip("/")
        self.endpoint_id = self.endpoint_url.rsplit("/", 1)[-1]
        self._http = JsonHttp(
            SERVICE,
            self.endpoint_url,
            {"Authorization": f"Bearer {api_key}"},
            "Set VOICESTUDIO_RUNPOD_API_KEY to a valid RunPod API key with access to endpoint "
            f"{self.endpoint_id}.",
            retry,
        )

    def __repr__(self) -> str:
        return f"RunPodEndpoint({without_secrets(self.endpoint_url)!r})"

    def describe_run(self, run_id: str) -> str:
        return f"RunPod job {run_id} on endpoint {self.endpoint_id}"

    def submit(self, inputs: ChunkInput, timeout_s: float) -> str:
        execution_timeout_ms = max(MIN_EXECUTION_TIMEOUT_MS, int(timeout_s * 1000))
        body = {"input": inputs.model_dump(mode="json"), "policy": {"executionTimeout": execution_timeout_ms}}
        answer = self._http.call("POST", "/run", body)
        self._refuse(answer, "submit the training chunk")
        run_id = answer.body.get("id") if isinstance(answer.body, dict) else None
        if not isinstance(run_id, str) or not run_id:
            raise RemoteBadAnswer(
                f"RunPod accepted the training chunk but gave no job id ({answer.body!r:.200}). Check that "
                "VOICESTUDIO_RUNPOD_ENDPOINT_URL is https://api.runpod.ai/v2/<endpoint id>."
            )
        return run_id

    def status(self, run_id: str) -> RemoteStatus:
        answer = self._http.call("GET", f"/status/{run_id}")
        self._refuse(answer, f"read the status of job {run_id}")
        body = answer.body if isinstance(answer.body, dict) else {}
        name = str(body.get("status", ""))
        state = STATES.get(name)
        if state is None:
            raise RemoteBadAnswer(
                f"RunPod reported job {run_id} as {name!r}, which is no documented job state. "
                "Check the endpoint URL; if RunPod changed its API, update the studio."
            )
        output = body.get("output")
        return RemoteStatus(
            run_id=run_id,
            state=state,
            progress=progress_of(output) if state is RemoteState.running else None,
            output=output_of(output, self.describe_run(run_id), DEPLOY_HINT)
            if state is RemoteState.completed
            else None,
            error=text_of(body.get("error")),
            queued_s=_seconds(body.get("delayTime")),
            execution_s=_seconds(body.get("executionTime")),
        )

    def cancel(self, run_id: str) -> None:
        answer = self._http.call("POST", f"/cancel/{run_id}")
        self._refuse(answer, f"cancel job {run_id}")

    def _refuse(self, answer: JsonAnswer, doing: str) -> None:
        refuse(
            answer,
            SERVICE,
            doing,
            not_found=f"Check VOICESTUDIO_RUNPOD_ENDPOINT_URL (now {without_secrets(self.endpoint_url)}); "
            "job results are kept for 30 minutes after they finish.",
            otherwise="Check the endpoint's settings in the RunPod console, then train again.",
        )


def _seconds(milliseconds: Any) -> float | None:
    return float(milliseconds) / 1000.0 if isinstance(milliseconds, int | float) else None
