"""The machine a benchmark ran on, as every bench/ script prints it beside its figures."""

import os
import platform
from pathlib import Path


def machine() -> str:
    """CPU model and core count, as /proc/cpuinfo and the OS report them."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{model}, {usable} cores usable ({os.cpu_count()} online), Python {platform.python_version()}"
