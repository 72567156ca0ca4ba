"""A training step's segment slicing and discriminator loss give piper's values without reading the device."""

import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Any

import piper.train.vits
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import voicestudio.neural.model  # noqa: F401  # installs the helpers, as training does
from voicestudio.neural.host_reads import discriminator_loss, slice_segments

_HOST_READS = {torch.ops.aten._local_scalar_dense.default, torch.ops.aten.is_nonzero.default}


class _HostReads(TorchDispatchMode):
    """Counts operators that hand a tensor's value to Python (on a GPU: a wait for the device)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(
        self, func: Any, types: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None
    ) -> Any:
        self.count += func in _HOST_READS
        return func(*args, **(kwargs or {}))


def _reads(call: Callable[[], Any]) -> int:
    with _HostReads() as reads:
        call()
    return reads.count


@pytest.fixture(scope="module")
def piper_originals() -> ModuleType:
    """piper's own commons and losses, loaded fresh from its files (the installed names are ours)."""
    originals = ModuleType("piper_originals")
    for name in ("commons", "losses"):
        path = f"{piper.train.vits.__path__[0]}/{name}.py"
        spec = importlib.util.spec_from_file_location(f"piper_original_{name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        setattr(originals, name, module)
    return originals


def test_segments_are_piper_s_values_and_gradients_with_no_host_read(piper_originals: ModuleType) -> None:
    generator = torch.Generator().manual_seed(3)
    x = torch.randn(5, 7, 90, generator=generator, requires_grad=True)
    starts = torch.tensor([0, 12, 58, -3, 40])  # a negative start counts as 0
    weights = torch.randn(5, 7, 32, generator=generator)

    ours = slice_segments(x, starts, 32)
    (ours * weights).sum().backward()
    our_gradient = x.grad.clone()  # type: ignore[union-attr]
    x.grad = None
    theirs = piper_originals.commons.slice_segments(x, starts, 32)
    (theirs * weights).sum().backward()

    assert torch.equal(ours, theirs)
    assert torch.equal(our_gradient, x.grad)
    assert _reads(lambda: slice_segments(x, starts, 32)) == 0
    assert _reads(lambda: piper_originals.commons.slice_segments(x, starts, 32)) >= 5


def test_discriminator_loss_is_piper_s_sum_and_parts_with_no_host_read(piper_originals: ModuleType) -> None:
    generator = torch.Generator().manual_seed(4)
    shapes = [(4, 1, 80), (4, 1, 40, 3), (4, 1, 16, 5)]
    real = [torch.randn(shape, generator=generator) for shape in shapes]
    generated = [torch.randn(shape, generator=generator) for shape in shapes]

    total, real_parts, generated_parts = discriminator_loss(real, generated)
    expected = piper_originals.losses.discriminator_loss(real, generated)
    expected_total, expected_real, expected_generated = expected

    assert torch.equal(total, expected_total)
    assert [part.item() for part in real_parts] == expected_real
    assert [part.item() for part in generated_parts] == expected_generated
    assert _reads(lambda: discriminator_loss(real, generated)) == 0
    assert _reads(lambda: piper_originals.losses.discriminator_loss(real, generated)) == 2 * len(shapes)


def test_piper_training_calls_the_studio_s_helpers() -> None:
    commons = importlib.import_module("piper.train.vits.commons")
    lightning = importlib.import_module("piper.train.vits.lightning")

    assert commons.slice_segments is slice_segments  # what rand_slice_segments calls
    assert lightning.slice_segments is slice_segments
    assert lightning.discriminator_loss is discriminator_loss
