"""A training step's segment slicing and discriminator loss give piper's values without reading the device."""

import importlib.util
from collections.abc import Callable
from types import ModuleType
from typing import Any

import piper.train.vits
import pytest
import torch

import voicestudio.neural.model  # noqa: F401  # installs the helpers, as training does
from voicestudio.neural.device_demands import DeviceDemands
from voicestudio.neural.host_reads import (
    discriminator_loss,
    slice_segments,
    unconstrained_rational_quadratic_spline,
)


def _reads(call: Callable[[], Any]) -> int:
    """Values `call` reads back from the device (on a GPU, each a wait for it)."""
    with DeviceDemands() as demands:
        call()
    return demands.host_reads


@pytest.fixture(scope="module")
def piper_originals() -> ModuleType:
    """piper's own commons and losses, loaded fresh from its files (the installed names are ours)."""
    originals = ModuleType("piper_originals")
    for name in ("commons", "losses", "transforms"):
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


@pytest.mark.parametrize("inverse", [False, True])
def test_duration_flow_spline_is_piper_s_with_no_host_read(
    piper_originals: ModuleType, inverse: bool
) -> None:
    """The duration predictor's flows: inputs straddle the ±5 bound, 10 bins, as piper's ConvFlow calls it."""
    generator = torch.Generator().manual_seed(5)
    inputs = (torch.randn(3, 2, 40, generator=generator) * 4).requires_grad_()
    widths, heights = (torch.randn(3, 2, 40, 10, generator=generator).requires_grad_() for _ in range(2))
    derivatives = torch.randn(3, 2, 40, 9, generator=generator).requires_grad_()
    leaves = (inputs, widths, heights, derivatives)
    assert ((inputs.abs() > 5) & (inputs.abs() < 50)).sum() > 10

    def spline(function: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> list[torch.Tensor]:
        outputs, logabsdet = function(inputs, widths, heights, derivatives, inverse=inverse, tail_bound=5.0)
        gradients = torch.autograd.grad((outputs * 1.7 + logabsdet).sum(), leaves)
        return [outputs.detach(), logabsdet.detach(), *gradients]

    ours = spline(unconstrained_rational_quadratic_spline)
    theirs = spline(piper_originals.transforms.unconstrained_rational_quadratic_spline)

    for our_value, their_value in zip(ours, theirs, strict=True):
        torch.testing.assert_close(our_value, their_value, rtol=1e-6, atol=1e-6)
    # Training runs the flows forward; inverting (synthesis) keeps piper's own check of its square root.
    assert _reads(lambda: spline(unconstrained_rational_quadratic_spline)) == (1 if inverse else 0)
    assert _reads(lambda: spline(piper_originals.transforms.unconstrained_rational_quadratic_spline)) >= 4


def test_piper_s_model_calls_the_studio_s_helpers() -> None:
    commons = importlib.import_module("piper.train.vits.commons")

    assert commons.slice_segments is slice_segments  # what rand_slice_segments calls
    transforms = importlib.import_module("piper.train.vits.transforms")
    assert transforms.unconstrained_rational_quadratic_spline is unconstrained_rational_quadratic_spline
