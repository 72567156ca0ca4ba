"""Writing training checkpoints while training goes on.

A medium checkpoint is ~850 MB (both models and both optimizers' state): writing it held the training
loop up ~3 s on a 2-core CPU, every `checkpoint_every_steps`. This Lightning checkpoint I/O copies the
checkpoint to host memory (0.3 s), then writes it atomically from one background thread and runs the
caller's follow-up there (storing the file, recording the step). One write at a time, so at most
one copy waits in memory; a failed write is raised at the next save or at `wait`.
"""

import copy
import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from voicestudio.neural.checkpoints import save_atomic

AfterWrite = Callable[[], None]
_LOG = logging.getLogger(__name__)


def on_host(value: Any) -> Any:
    """A copy of `value` whose tensors are host copies and containers new: training may go on."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        copied = copy.copy(value)  # keeps the dict's own type (Lightning's AttributeDict, OrderedDict)
        for key, item in value.items():
            copied[key] = on_host(item)
        return copied
    if isinstance(value, list):
        return [on_host(item) for item in value]
    if type(value) is tuple:
        return tuple(on_host(item) for item in value)
    return value


class BackgroundCheckpointIO(TorchCheckpointIO):
    """Saves from a background thread; `storage_options` may be a callable run there after the write."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint-writer")
        self._pending: Future[None] | None = None

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        self.wait()
        after: AfterWrite | None = storage_options if callable(storage_options) else None
        self._pending = self._pool.submit(_write, on_host(checkpoint), Path(path), after)

    def wait(self) -> None:
        """Block until the write in flight (and its follow-up) is done; raise what it raised."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def close(self, raise_error: bool = True) -> None:
        """Wait for the last write, then stop the thread; its error is raised, or only logged."""
        try:
            self.wait()
        except Exception:
            if raise_error:
                raise
            _LOG.exception("the last checkpoint could not be written")
        finally:
            self._pool.shutdown(wait=True)

    def teardown(self) -> None:
        """Lightning's end of a run: let the last write finish; its error is raised by the owner's `wait`."""
        if self._pending is not None:
            self._pending.exception()


def _write(checkpoint: dict[str, Any], path: Path, after: AfterWrite | None) -> None:
    save_atomic(lambda part: torch.save(checkpoint, part), path)
    if after is not None:
        after()
