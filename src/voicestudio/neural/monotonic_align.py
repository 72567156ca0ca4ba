"""Monotonic alignment search for VITS training: torch ops on the tensor's own device, then a host walk.

The piper-tts 1.8.0 wheel ships without its compiled `monotonic_align` module; `install_maximum_path`
puts this one in its place, and only when the compiled one cannot be imported.
"""

import importlib
import sys
import types

import numpy as np
import numpy.typing as npt
import torch

_PIPER_MODULE = "piper.train.vits.monotonic_align"
_UNREACHABLE = -1e9  # the score of a cell no monotonic path can reach, as the compiled search uses


def maximum_path(neg_cent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The best monotonic path through `neg_cent` [batch, frames, tokens] within `mask`, as 0/1 cells.

    Every frame takes exactly one token; a path starts at token 0 on frame 0, moves on by at most
    one token per frame and ends on the last token on the last frame; a tie keeps the current token.
    The scores add up frame by frame on the tensor's own device, two kernels a frame (a GPU step is
    bound by kernel launches); the walk back runs on the host from a copy of the choices.
    """
    scores = neg_cent.detach().to(torch.float32)
    frames_used = mask[:, :, 0].sum(1).to(torch.long)
    tokens_used = mask[:, 0, :].sum(1).to(torch.long)
    totals = _cumulative_scores(scores, frames_used, tokens_used)
    # Going on to the next token was the better way into a cell (a tie stays on the current token).
    advanced = totals[:, :-1, 1:] < totals[:, :-1, :-1]
    lengths = torch.stack((frames_used, tokens_used)).cpu().numpy()  # one copy back for both
    taken = _walk_back(advanced.cpu().numpy(), lengths[0], lengths[1])
    token_index = torch.arange(scores.shape[2], device=scores.device)
    return (torch.from_numpy(taken).to(scores.device).unsqueeze(2) == token_index).to(neg_cent.dtype)


def _cumulative_scores(
    scores: torch.Tensor, frames_used: torch.Tensor, tokens_used: torch.Tensor
) -> torch.Tensor:
    """Best score of any path into each cell, [batch, frames, 1 + tokens] (column 0 is never reachable).

    Cells no full path can cross score unreachable up front, so the loop needs no masks: a cell on
    some path only ever reads cells on some path, and a token beyond its frame number stays below
    `_UNREACHABLE`, which forbids holding a token on the frame it was first reached.
    """
    batch, frame_count, token_count = scores.shape
    frame_index = torch.arange(frame_count, device=scores.device).view(1, frame_count, 1)
    token_index = torch.arange(token_count, device=scores.device).view(1, 1, token_count)
    frames = frames_used.view(batch, 1, 1)
    tokens = tokens_used.view(batch, 1, 1)
    # On some path: reachable by this frame at one token per frame, and the last token still
    # reachable by the last frame.
    on_path = (
        (token_index <= frame_index)
        & (token_index >= tokens + frame_index - frames)
        & (token_index < tokens)
        & (frame_index < frames)
    )
    reachable = scores.masked_fill(~on_path, _UNREACHABLE)
    totals = torch.full((batch, frame_count, token_count + 1), _UNREACHABLE, device=scores.device)
    totals[:, 0, 1] = reachable[:, 0, 0]
    came_from = torch.empty((batch, token_count), device=scores.device)
    for frame in range(1, frame_count):
        previous = totals[:, frame - 1]
        torch.maximum(previous[:, :-1], previous[:, 1:], out=came_from)
        torch.add(reachable[:, frame], came_from, out=totals[:, frame, 1:])
    return totals


def _walk_back(
    advanced: npt.NDArray[np.bool_], frames_used: npt.NDArray[np.int64], tokens_used: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """The token each frame takes, [batch, frames], -1 past a row's last frame; from the last cell back."""
    batch, frame_count = advanced.shape[0], advanced.shape[1] + 1
    rows = np.arange(batch)
    taken = np.full((batch, frame_count), -1, dtype=np.int64)
    token = tokens_used - 1
    for frame in range(frame_count - 1, -1, -1):
        active = frame < frames_used
        held = np.maximum(token, 0)
        taken[:, frame] = np.where(active, held, -1)
        if frame > 0:
            token = token - (active & (token > 0) & advanced[rows, frame - 1, held])
    return taken


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
