"""Two of piper's training helpers, rewritten so a step reads nothing back from the device.

A GPU training step is bound by latency: each value read back to Python waits for every queued
kernel. piper's `slice_segments` reads each start index back (one wait per utterance, three times a
step) and its `discriminator_loss` reads every partial loss back only to return them unused. These
compute the same values with device ops alone; `install_host_read_free_helpers` puts them in place.
"""

import importlib
from collections.abc import Sequence

import torch

_COMMONS = "piper.train.vits.commons"
_LIGHTNING = "piper.train.vits.lightning"


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


def install_host_read_free_helpers() -> None:
    """Make piper's training call these helpers in place of its own (idempotent)."""
    commons = importlib.import_module(_COMMONS)
    lightning = importlib.import_module(_LIGHTNING)
    commons.slice_segments = slice_segments  # type: ignore[attr-defined]  # rand_slice_segments reads it here
    lightning.slice_segments = slice_segments  # type: ignore[attr-defined]
    lightning.discriminator_loss = discriminator_loss  # type: ignore[attr-defined]
