"""Building piper's VITS Lightning module from hyper-parameters and reading checkpoints back."""

from pathlib import Path
from typing import Any

import torch

from voicestudio.neural.host_reads import install_host_read_free_helpers
from voicestudio.neural.presets import STFT_DISCRIMINATOR_KEY
from voicestudio.neural.step import StudioVits  # first: it installs the alignment search piper imports

install_host_read_free_helpers()

from piper.train.vits.models import MultiResolutionDiscriminator  # noqa: E402

# Hyper-parameters that must not travel from one run to the next: piper's warm-start paths would
# reload weights over a resumed run, and its MOS metric downloads a predictor from the hub.
_RUN_ONLY = ("warmstart_ckpt", "vocoder_warmstart_ckpt", "dataset")


def build_model(hyperparameters: dict[str, Any], batch_size: int) -> StudioVits:
    """piper's VitsModel with the studio's step for these hyper-parameters, without the MOS metric."""
    kwargs = {key: value for key, value in hyperparameters.items() if key not in _RUN_ONLY}
    kwargs.update(batch_size=batch_size, mos_metric=None)
    model = StudioVits(**kwargs)
    resolutions = kwargs.get(STFT_DISCRIMINATOR_KEY)
    if resolutions:
        # Parts with the same call and outputs as the period discriminator's; the studio's step runs each.
        model.model_d = MultiResolutionDiscriminator(  # type: ignore[assignment]
            resolutions=tuple(tuple(int(n) for n in r) for r in resolutions),
            use_spectral_norm=bool(model.hparams["use_spectral_norm"]),
        )
    return model


def load_checkpoint_dict(path: Path) -> dict[str, Any]:
    """The raw contents of a Lightning checkpoint, on the CPU; raises what torch raises."""
    loaded = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
    if not isinstance(loaded, dict):
        raise ValueError(f"holds a {type(loaded).__name__}, not a checkpoint")
    return loaded


def hyperparameters_of(checkpoint: dict[str, Any]) -> dict[str, Any]:
    """The VitsModel hyper-parameters saved in a checkpoint; ValueError when it has none."""
    hyperparameters = checkpoint.get("hyper_parameters")
    if not isinstance(hyperparameters, dict) or "state_dict" not in checkpoint:
        raise ValueError("no hyper-parameters or weights in it")
    return dict(hyperparameters)


def step_of(checkpoint: dict[str, Any]) -> int:
    """Training steps done: Lightning counts each of the two optimizers' steps, so half its count."""
    return int(checkpoint.get("global_step", 0)) // 2
