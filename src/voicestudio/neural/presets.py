"""Size presets for a voice trained from scratch: piper's hyper-parameters by name."""

from typing import Any

from voicestudio.neural.values import Preset

# Key stored among a checkpoint's hyper-parameters when the period discriminator was replaced by
# piper's small multi-resolution STFT discriminator; its value is the list of STFT resolutions.
STFT_DISCRIMINATOR_KEY = "voicestudio_stft_discriminator"
PRESET_KEY = "voicestudio_preset"

# tiny: a few hundred thousand generator weights, for tests and CPU demos. piper's period
# discriminator alone holds 46.7 M weights (560 MB of checkpoint with its optimizer state), so tiny
# trains against piper's multi-resolution STFT discriminator at two small resolutions instead.
_TINY: dict[str, Any] = {
    "inter_channels": 32,
    "hidden_channels": 32,
    "filter_channels": 64,
    "n_heads": 2,
    "n_layers": 2,
    "resblock": "2",
    "resblock_kernel_sizes": (3,),
    "resblock_dilation_sizes": ((1, 2),),
    "upsample_rates": (8, 8, 4),
    "upsample_initial_channel": 32,
    "upsample_kernel_sizes": (16, 16, 8),
    "segment_size": 4096,
    STFT_DISCRIMINATOR_KEY: [[512, 128, 512], [256, 64, 256]],
}

# medium: piper's own defaults, which are its "medium" quality (the size of en_US-joe-medium).
_MEDIUM: dict[str, Any] = {}

PRESETS: dict[str, dict[str, Any]] = {"tiny": _TINY, "medium": _MEDIUM}


def preset_hyperparameters(preset: Preset) -> dict[str, Any]:
    """The VitsModel keyword arguments of a preset, tagged with its name."""
    return {**PRESETS[preset], PRESET_KEY: preset}
