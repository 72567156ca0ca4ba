"""Monotonic alignment search for VITS training, in torch ops on the tensor's own device.

The piper-tts 1.8.0 wheel ships without its compiled `monotonic_align` module; `install_maximum_path`
puts this one in its place, and only when the compiled one cannot be imported.
"""

import importlib
import sys
import types

import torch
from torch.nn import functional as F

_PIPER_MODULE = "piper.train.vits.monotonic_align"
_UNREACHABLE = -1e9  # the score of a cell no monotonic path can reach, as the compiled search uses


def maximum_path(neg_cent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The best monotonic path through `neg_cent` [batch, frames, tokens] within `mask`, as 0/1 cells.

    Every frame takes exactly one token; a path starts at token 0 on frame 0, moves on by at most
    one token per frame and ends on the last token on the last frame; a tie keeps the current token.
    Frame by frame, vectorised over the batch and the tokens, with no host sync.
    """
    device = neg_cent.device
    scores = neg_cent.detach().to(torch.float32)
    batch, frame_count, token_count = scores.shape
    frames_used = mask.sum(1)[:, 0].to(torch.long).view(batch, 1, 1)
    tokens_used = mask.sum(2)[:, 0].to(torch.long).view(batch, 1, 1)
    frame_index = torch.arange(frame_count, device=device).view(1, frame_count, 1)
    token_index = torch.arange(token_count, device=device).view(1, 1, token_count)
    # A cell is on some path when the path can have reached its token by its frame (one token per
    # frame at most) and can still reach the last token by the last frame.
    on_path = (
        (token_index <= frame_index)
        & (token_index >= tokens_used + frame_index - frames_used)
        & (token_index < tokens_used)
        & (frame_index < frames_used)
    )
    first_token = token_index[0, 0] == 0

    best = scores.clone()
    advanced = torch.zeros_like(on_path)  # per cell: the best way in came from the previous token
    for frame in range(frame_count):
        if frame == 0:
            came_from = torch.where(first_token, 0.0, _UNREACHABLE).expand(batch, -1)
        else:
            previous = best[:, frame - 1, :]
            advance = F.pad(previous[:, :-1], (1, 0), value=_UNREACHABLE)
            # The token equal to the frame number cannot have been held on the frame before.
            stay = previous.masked_fill(token_index[0, 0] == frame, _UNREACHABLE)
            came_from = torch.maximum(advance, stay)
            advanced[:, frame, :] = (token_index[0, 0] == frame) | (previous < advance)
        best[:, frame, :] = torch.where(
            on_path[:, frame, :], scores[:, frame, :] + came_from, best[:, frame, :]
        )

    path = torch.zeros_like(scores)
    rows = torch.arange(batch, device=device)
    frames_used_flat = frames_used.view(batch)
    token = tokens_used.view(batch) - 1
    for frame in range(frame_count - 1, -1, -1):
        active = frame < frames_used_flat
        held = token.clamp(min=0)
        path[rows, frame, held] = active.to(path.dtype)
        step_back = active & (token > 0) & advanced[rows, frame, held]
        token = token - step_back.to(token.dtype)
    return path.to(dtype=neg_cent.dtype)


def install_maximum_path() -> bool:
    """Make piper's training import this search when its compiled one is missing; True when installed."""
    if _PIPER_MODULE in sys.modules:
        return getattr(sys.modules[_PIPER_MODULE], "maximum_path", None) is maximum_path
    try:
        importlib.import_module(_PIPER_MODULE)
    except ImportError:
        pass
    else:
        return False
    module = types.ModuleType(_PIPER_MODULE, "Monotonic alignment search in torch ops (voicestudio).")
    module.maximum_path = maximum_path  # type: ignore[attr-defined]
    sys.modules[_PIPER_MODULE] = module
    parent = importlib.import_module(_PIPER_MODULE.rpartition(".")[0])
    parent.monotonic_align = module  # type: ignore[attr-defined]
    return True
