"""Run the real `voicestudio` command in a child process, as a user's shell would."""

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def run_cli(*args: str | Path, log_dir: Path | None = None) -> CliResult:
    """`voicestudio ARGS...` with a wide terminal so tables are not folded mid-word."""
    env = {"COLUMNS": "220", "PATH": "/usr/bin:/bin", "HOME": str(log_dir or Path.home())}
    if log_dir is not None:
        env["VOICESTUDIO_LOG_DIR"] = str(log_dir)
    done = subprocess.run(
        [sys.executable, "-m", "voicestudio", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    return CliResult(done.returncode, done.stdout, done.stderr)
