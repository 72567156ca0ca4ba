"""What torch code asks of its device: operators that run a kernel, and values read back to the host.

On a GPU each such operator is at least one kernel launch and each read waits for the device to
finish its queue; a dispatch mode sees both on any device, so the training step's demands can be
counted on a CPU (the step census bench, the tests of the host-read-free helpers).
"""

from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

_aten = torch.ops.aten
# Operators that hand a tensor's value to Python.
_READS = {
    _aten._local_scalar_dense.default,
    _aten.nonzero.default,
    _aten.is_nonzero.default,
    _aten.equal.default,
}
# Indexing by a boolean mask counts the mask's true cells on the host first (a nonzero below the mode).
_MASK_INDEXING = {
    _aten.index.Tensor,
    _aten.index_put.default,
    _aten.index_put_.default,
    _aten._index_put_impl_.default,
}
# Operators that allocate or re-describe memory without running a kernel.
_NO_KERNEL = {
    _aten.empty.memory_format,
    _aten.empty_strided.default,
    _aten.empty_like.default,
    _aten.detach.default,
    _aten.lift_fresh.default,
}

OperatorSeen = Callable[[bool], None]  # told True for a host read, False for a kernel


def is_host_read(func: Any, args: tuple[Any, ...]) -> bool:
    """True when the operator (with these arguments) reads a device value back to the host."""
    if func in _READS:
        return True
    if func in _MASK_INDEXING and len(args) > 1:
        return any(isinstance(index, torch.Tensor) and index.dtype == torch.bool for index in args[1])
    return False


def runs_kernel(func: Any) -> bool:
    """True for an operator that computes (a kernel launch on a GPU), not a view or an allocation."""
    return not func.is_view and func not in _NO_KERNEL


class DeviceDemands(TorchDispatchMode):  # type: ignore[no-untyped-call]
    """While active, counts kernel-running operators and host reads; `on_operator` hears of each."""

    def __init__(self, on_operator: OperatorSeen | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.kernels = 0
        self.host_reads = 0
        self._on_operator = on_operator

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        read = is_host_read(func, args)
        if read or runs_kernel(func):
            self.host_reads += read
            self.kernels += not read
            if self._on_operator is not None:
                self._on_operator(read)
        return func(*args, **(kwargs or {}))
