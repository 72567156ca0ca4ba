"""Log setup for servers and workers: today's text lines or JSON lines, each with its request and job id.

The ids live in context variables: the web middleware sets the request id, the worker sets the job id
around each job, and every record logged meanwhile carries them. Secrets in messages are masked.
"""

import json
import logging
import re
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Final, Literal, Protocol, TextIO

from voicestudio.errors import VoicestudioError

TEXT_FORMAT: Final = "%(asctime)s %(processName)s %(levelname)s %(name)s: %(message)s"
REQUEST_ID_LENGTH: Final = 64  # longer ids sent by a client are cut, so a log line stays a line
MASK: Final = "***"

request_id_var: ContextVar[str | None] = ContextVar("voicestudio_request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("voicestudio_job_id", default=None)

# What a secret looks like in a message: a bearer token, a password in a URL, key=value pairs.
_SECRETS: Final = (
    re.compile(r"(?i)(bearer\s+)[^\s,;\"']+"),
    re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^:/\s@]*:)[^@\s]+(?=@)"),
    re.compile(r"(?i)(\b(?:password|passwd|token|api_key|apikey|secret)\w*[=:]\s*)[^\s&,;\"']+"),
)
_ID_CHARACTERS: Final = re.compile(r"[^A-Za-z0-9._:-]")


class LoggingError(VoicestudioError):
    """The log settings cannot be used; the message says which and what to set."""


class LoggingSettings(Protocol):
    """The two settings logging needs; StudioSettings has them."""

    @property
    def log_format(self) -> Literal["text", "json"]: ...

    @property
    def log_level(self) -> str: ...


def mask_secrets(text: str) -> str:
    """`text` with bearer tokens, URL passwords and password=/token= values replaced by ***."""
    for pattern in _SECRETS:
        text = pattern.sub(lambda match: match.group(1) + MASK, text)
    return text


def clean_request_id(sent: str | None) -> str:
    """The client's X-Request-ID if it is a plain token (letters, digits, `._:-`), else a new uuid."""
    if sent:
        cleaned = _ID_CHARACTERS.sub("", sent)[:REQUEST_ID_LENGTH]
        if cleaned:
            return cleaned
    return uuid.uuid4().hex


@contextmanager
def request_log_context(request_id: str) -> Iterator[None]:
    """Every record logged inside carries `request_id`."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


@contextmanager
def job_log_context(job_id: str) -> Iterator[None]:
    """Every record logged inside carries `job_id` (the worker wraps each job run in it)."""
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)


class ContextIds(logging.Filter):
    """Copies the current request and job ids onto each record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        record.job_id = job_id_var.get()
        return True


class MaskedText(logging.Formatter):
    """Today's text lines (TEXT_FORMAT), tracebacks included, with secrets masked."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return mask_secrets(super().format(record))


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, request_id, job_id, process,
    and exception (the traceback) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "job_id": getattr(record, "job_id", None),
            "process": record.processName,
        }
        if record.exc_info:
            line["exception"] = mask_secrets(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = mask_secrets(record.exc_text)
        return json.dumps(line, ensure_ascii=False, default=str)


def log_handler(log_format: Literal["text", "json"], stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to `stream` (default stderr) in `log_format`, stamping ids and masking secrets."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonLines() if log_format == "json" else MaskedText())
    handler.addFilter(ContextIds())
    return handler


def configure_logging(settings: LoggingSettings) -> None:
    """Send every logger's records (uvicorn's too) to one stderr handler in the configured format."""
    level = logging.getLevelNamesMapping().get(settings.log_level.upper())
    if level is None:
        raise LoggingError(
            f"The log level {settings.log_level!r} is not one; set VOICESTUDIO_LOG_LEVEL to "
            "DEBUG, INFO, WARNING or ERROR."
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(log_handler(settings.log_format))
    root.setLevel(level)
    logging.captureWarnings(True)  # Python's warnings become records too, so every line has the format
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
