"""Three of piper's training helpers, rewritten so a step reads nothing back from the device.

A GPU training step is bound by latency: each value read back to Python waits for every queued
kernel. piper's `slice_segments` reads each start index back (one wait per utterance, three times a
step), its `discriminator_loss` reads every partial loss back only to return them unused, and its
duration flows' spline splits its inputs with boolean masks (each a count read back, forward and
backward). These compute the same values with device ops alone. The studio's training step calls
them itself; `install_host_read_free_helpers` puts the slice and the spline in place inside piper's model.
"""

import importlib
import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.nn import functional as F

_COMMONS = "piper.train.vits.commons"
_TRANSFORMS = "piper.train.vits.transforms"


def slice_segments(x: torch.Tensor, ids_str: torch.Tensor, segment_size: int = 4) -> torch.Tensor:
    """`segment_size` frames of each row of `x` [batch, channels, frames] from its start index.

    A negative start counts as 0, as in piper's; one gather instead of one copy per row.
    """
    batch, channels, frame_count = x.shape
    starts = ids_str.to(device=x.device, dtype=torch.long).clamp(min=0).view(batch, 1, 1)
    offsets = torch.arange(segment_size, device=x.device).view(1, 1, segment_size)
    index = (starts + offsets).clamp(max=frame_count - 1).expand(batch, channels, segment_size)
    return torch.gather(x, 2, index)


def discriminator_loss(
    real_outputs: Sequence[torch.Tensor], generated_outputs: Sequence[torch.Tensor]
) -> tuple[torch.Tensor, list[torch.Tensor], list[torch.Tensor]]:
    """Least-squares GAN loss of the discriminators: real outputs towards 1, generated towards 0.

    Same sum in the same order as piper's; the per-discriminator parts stay on the device.
    """
    real_losses = [torch.mean((1 - real.float()) ** 2) for real in real_outputs]
    generated_losses = [torch.mean(generated.float() ** 2) for generated in generated_outputs]
    total: torch.Tensor | int = 0
    for real_loss, generated_loss in zip(real_losses, generated_losses, strict=True):
        total = total + (real_loss + generated_loss)
    if not isinstance(total, torch.Tensor):
        raise ValueError("no discriminator outputs to score")
    return total, [loss.detach() for loss in real_losses], [loss.detach() for loss in generated_losses]


def unconstrained_rational_quadratic_spline(
    inputs: torch.Tensor,
    unnormalized_widths: torch.Tensor,
    unnormalized_heights: torch.Tensor,
    unnormalized_derivatives: torch.Tensor,
    inverse: bool = False,
    tails: str = "linear",
    tail_bound: float = 1.0,
    **bin_limits: Any,
) -> tuple[torch.Tensor, torch.Tensor]:
    """piper's rational-quadratic spline inside ±`tail_bound` and the identity outside it.

    Every element goes through the spline (those outside at the bound) and `where` keeps the identity
    outside, instead of gathering the inside elements by a boolean mask.
    """
    if tails != "linear":
        raise RuntimeError(f"{tails} tails are not implemented.")
    transforms = importlib.import_module(_TRANSFORMS)
    min_derivative = bin_limits.get("min_derivative", transforms.DEFAULT_MIN_DERIVATIVE)
    # End derivatives of 1 after piper's softplus, so the spline meets the identity tails smoothly.
    end_derivative = math.log(math.exp(1 - min_derivative) - 1)
    spline_outputs, spline_logabsdet = transforms.rational_quadratic_spline(
        inputs=inputs.clamp(-tail_bound, tail_bound),
        unnormalized_widths=unnormalized_widths,
        unnormalized_heights=unnormalized_heights,
        unnormalized_derivatives=F.pad(unnormalized_derivatives, pad=(1, 1), value=end_derivative),
        inverse=inverse,
        left=-tail_bound,
        right=tail_bound,
        bottom=-tail_bound,
        top=tail_bound,
        **bin_limits,
    )
    inside = (inputs >= -tail_bound) & (inputs <= tail_bound)
    outputs = torch.where(inside, spline_outputs, inputs)
    return outputs, torch.where(inside, spline_logabsdet, torch.zeros_like(spline_logabsdet))


def install_host_read_free_helpers() -> None:
    """Make piper's model call the slice and the spline in place of its own (idempotent)."""
    commons = importlib.import_module(_COMMONS)
    commons.slice_segments = slice_segments  # type: ignore[attr-defined]  # rand_slice_segments reads it here
    transforms = importlib.import_module(_TRANSFORMS)
    transforms.unconstrained_rational_quadratic_spline = unconstrained_rational_quadratic_spline  # type: ignore[attr-defined]
