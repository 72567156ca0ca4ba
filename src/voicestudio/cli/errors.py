"""The CLI's answer to failure: a one-line message for known errors, else a logged traceback and an id."""

import logging
import os
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

from voicestudio.errors import VoicestudioError

_LOG = logging.getLogger("voicestudio.cli")


def log_path() -> Path:
    """Where unexpected errors are logged with their traceback (`VOICESTUDIO_LOG_DIR` overrides)."""
    folder = Path(os.environ.get("VOICESTUDIO_LOG_DIR", Path.home() / ".cache" / "voicestudio"))
    return folder / "voicestudio.log"


def run_reporting_errors(command: Callable[[], int], console: Console) -> int:
    """Run the CLI; return its exit code, never letting a traceback reach the user's terminal."""
    try:
        return command()
    except VoicestudioError as error:
        console.print(f"[red]error:[/red] {error.message}", highlight=False)
        return 2
    except KeyboardInterrupt:
        console.print("interrupted")
        return 130
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else 0
    except Exception:
        incident = uuid.uuid4().hex[:8]
        path = log_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.FileHandler(path, encoding="utf-8")
            _LOG.addHandler(handler)
            _LOG.exception("internal error %s (argv %s)", incident, sys.argv)
            handler.close()
            where = f"details in {path}"
        except OSError:
            where = "the log could not be written"
        message = f"[red]internal error, id {incident}[/red] ({where}). Please report it."
        console.print(message, highlight=False)
        return 1
