"""Reading a rented-GPU service's answers, the same for every service: a refused call in words, the
progress a running chunk reports, and a finished chunk's output. Each service passes its name and its
own advice."""

from typing import Any

from pydantic import ValidationError

from voicestudio.remote.contract import ChunkOutput, ChunkProgress
from voicestudio.remote.errors import RemoteBadAnswer
from voicestudio.remote.transport import JsonAnswer


def refuse(answer: JsonAnswer, who: str, doing: str, *, not_found: str, otherwise: str) -> None:
    """RemoteBadAnswer for any answer but 2xx: `who` could not do `doing`, with the service's own detail,
    then `not_found` (a 404) or `otherwise` as the advice."""
    if 200 <= answer.status < 300:
        return
    detail = text_of(answer.body.get("error") if isinstance(answer.body, dict) else answer.body)
    suffix = f": {detail}" if detail else ""
    if answer.status == 404:
        raise RemoteBadAnswer(f"{who} could not {doing}: not found (404{suffix}). {not_found}")
    raise RemoteBadAnswer(f"{who} could not {doing}: it answered {answer.status}{suffix}. {otherwise}")


def progress_of(value: Any) -> ChunkProgress | None:
    """The handler's last progress report, if `value` is one (a service shows whatever the handler sent)."""
    if not isinstance(value, dict):
        return None
    try:
        return ChunkProgress.model_validate(value)
    except ValidationError:
        return None


def output_of(value: Any, run: str, deploy_hint: str) -> ChunkOutput:
    """A completed run's output; RemoteBadAnswer naming the `run` and how to deploy the right handler when
    it is not a training chunk's result."""
    try:
        return ChunkOutput.model_validate(value)
    except ValidationError as error:
        raise RemoteBadAnswer(
            f"{run} completed, but its output is not a training chunk's result ({error.error_count()} "
            f"problems, e.g. {error.errors()[0]['loc']}). {deploy_hint}"
        ) from None


def text_of(value: Any) -> str | None:
    """A service's error field as text; None when it is empty."""
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)
