"""The studio's VITS training step: piper's model and losses, each discriminator run once a step.

piper's step runs every discriminator four times (real and generated audio for the generator's loss,
then both again for the discriminator's own), and the generator's backward also computes
discriminator weight gradients that are then thrown away. Here each discriminator judges real and
generated audio together in one batch; the discriminator's loss reaches only its own weights and the
generator's only the generator's, so both updates are piper's (up to rounding), at fewer kernels and
less arithmetic. That holds for weight-normed discriminators, piper's default and every preset's: with
spectral norm, its power iteration would run once a step instead of four times. Both AdamW optimizers
step with torch's fused kernel.
"""

import importlib
from dataclasses import dataclass
from typing import Any, cast

import torch
from torch import autocast
from torch.nn import functional as F

from voicestudio.neural.host_reads import discriminator_loss, slice_segments
from voicestudio.neural.monotonic_align import install_maximum_path

install_maximum_path()

from piper.train.vits.lightning import VitsModel  # noqa: E402

_losses: Any = importlib.import_module("piper.train.vits.losses")  # untyped
_mels: Any = importlib.import_module("piper.train.vits.mel_processing")


@dataclass(frozen=True)
class Judgement:
    """What one multi-part discriminator said of real and generated audio: scores and feature maps."""

    real_scores: list[torch.Tensor]
    generated_scores: list[torch.Tensor]
    real_maps: list[list[torch.Tensor]]
    generated_maps: list[list[torch.Tensor]]


def judge_together(discriminator: torch.nn.Module, real: torch.Tensor, generated: torch.Tensor) -> Judgement:
    """Each part of `discriminator` (piper's period or STFT kind) judges both batches as one, split back.

    The parts hold no batch statistics, so every utterance's scores equal those of separate calls.
    """
    count = real.shape[0]
    both = torch.cat([real, generated.to(real.dtype)])
    judgement = Judgement([], [], [], [])
    for part in cast(torch.nn.ModuleList, discriminator.discriminators):
        scores, maps = part(both)
        judgement.real_scores.append(scores[:count])
        judgement.generated_scores.append(scores[count:])
        judgement.real_maps.append([feature[:count] for feature in maps])
        judgement.generated_maps.append([feature[count:] for feature in maps])
    return judgement


@dataclass(frozen=True)
class StepLosses:
    """The two losses a step back-propagates and the parts logged under piper's names."""

    generator: torch.Tensor
    discriminator: torch.Tensor
    parts: dict[str, torch.Tensor]


def choose_adamw_kernel(optimizer: torch.optim.Optimizer, fused: bool) -> None:
    """Before its first step, make an AdamW use torch's fused kernel (or, not fused, its multi-tensor one)."""
    for settings in (optimizer.defaults, *optimizer.param_groups):
        settings.update(fused=fused, foreach=not fused)


def _fused_again(optimizer: torch.optim.Optimizer) -> None:
    """After a resume: state saved by an unfused AdamW (an older run) brings its settings back, and its step
    counters live on the host; fuse again, counters on each weight's device as the fused kernel keeps them."""
    choose_adamw_kernel(optimizer, fused=True)
    for group in optimizer.param_groups:
        for weight in group["params"]:
            state = optimizer.state.get(weight)
            if state and isinstance(state.get("step"), torch.Tensor):
                state["step"] = state["step"].to(device=weight.device, dtype=torch.float32)


class StudioVits(VitsModel):
    """piper's VitsModel (same weights, hyper-parameters and checkpoints) with the studio's step."""

    def configure_optimizers(self) -> Any:
        """piper's two AdamW optimizers and schedules, stepping fused: one kernel for all weights, not
        a dozen per weight (a medium step's AdamW: 46 ms against 340 ms on a 2-core CPU)."""
        optimizers, schedulers = super().configure_optimizers()  # type: ignore[no-untyped-call]
        for optimizer in optimizers:
            choose_adamw_kernel(optimizer, fused=True)
            optimizer.register_load_state_dict_post_hook(_fused_again)
        return optimizers, schedulers

    def training_step(self, batch: Any, batch_idx: int) -> None:
        optimizers: Any = self.optimizers()
        generator_optimizer, discriminator_optimizer = optimizers
        losses = self.step_losses(batch)
        self.log("loss_g", losses.generator, batch_size=self.batch_size)
        self.log_dict(
            {f"train_{name}": value for name, value in losses.parts.items()}, batch_size=self.batch_size
        )
        self.log("loss_d", losses.discriminator, batch_size=self.batch_size)
        # piper's order: the generator steps before the discriminator's backward (a 16-bit run's loss
        # scale may change at each step). One discriminator graph serves both losses, so the first
        # backward keeps it; the second reaches no generator weight, so the generator's step is safe.
        generator_optimizer.zero_grad()
        self.manual_backward(losses.generator, inputs=list(self.model_g.parameters()), retain_graph=True)
        generator_optimizer.step()
        discriminator_optimizer.zero_grad()
        self.manual_backward(losses.discriminator, inputs=self._discriminator_weights())
        discriminator_optimizer.step()

    def step_losses(self, batch: Any) -> StepLosses:
        """The generator's and the discriminators' losses on one batch, as piper weighs them."""
        hp: Any = self.hparams
        y_hat, duration_loss, _, ids_slice, _, z_mask, (_, z_p, m_p, logs_p, _, logs_q) = self.model_g(
            batch.phoneme_ids,
            batch.phoneme_lengths,
            batch.spectrograms,
            batch.spectrogram_lengths,
            batch.speaker_ids,
        )
        real = slice_segments(batch.audios, ids_slice * hp.hop_length, hp.segment_size)
        generated = y_hat[..., : real.shape[-1]]
        judgements = {
            prefix: judge_together(discriminator, real, generated)
            for prefix, discriminator in self.discriminators().items()
        }
        # Mel, KL and the losses in full precision whatever the autocast (cuFFT has no bf16).
        with autocast(self.device.type, enabled=False):
            real_mel = slice_segments(
                self._mel(batch.spectrograms), ids_slice, hp.segment_size // hp.hop_length
            )
            mel_l1 = F.l1_loss(real_mel, self._mel_of_audio(y_hat))
            kl = _losses.kl_loss(z_p, logs_q, m_p, logs_p, z_mask)
            parts = {"mel": mel_l1, "kl": kl, "dur": torch.sum(duration_loss.float())}
            for prefix, judgement in judgements.items():
                parts[f"{prefix}fm"] = _losses.feature_loss(judgement.real_maps, judgement.generated_maps)
                parts[f"{prefix}gen"] = _losses.generator_loss(judgement.generated_scores)[0]
                parts[f"{prefix}disc"] = discriminator_loss(
                    judgement.real_scores, judgement.generated_scores
                )[0]
            generator_total = (
                mel_l1 * hp.c_mel
                + kl * hp.c_kl
                + parts["dur"]
                + sum(parts[f"{prefix}fm"] + parts[f"{prefix}gen"] for prefix in judgements)
            )
            discriminator_total = sum(parts[f"{prefix}disc"] for prefix in judgements)
        return StepLosses(
            generator=generator_total,
            discriminator=discriminator_total,
            parts={name: value.detach() for name, value in parts.items()},
        )

    def discriminators(self) -> dict[str, torch.nn.Module]:
        """The discriminators by the prefix of their logged losses: piper's main one and its optional MRD."""
        found: dict[str, torch.nn.Module] = {"": self.model_d}
        if self.model_mrd is not None:
            found["mrd_"] = self.model_mrd
        return found

    def _discriminator_weights(self) -> list[torch.nn.Parameter]:
        return [weight for module in self.discriminators().values() for weight in module.parameters()]

    def _mel(self, spectrograms: torch.Tensor) -> torch.Tensor:
        hp: Any = self.hparams
        mel: torch.Tensor = _mels.spec_to_mel_torch(
            spectrograms.float(), hp.filter_length, hp.mel_channels, hp.sample_rate, hp.mel_fmin, hp.mel_fmax
        )
        return mel

    def _mel_of_audio(self, audio: torch.Tensor) -> torch.Tensor:
        hp: Any = self.hparams
        mel: torch.Tensor = _mels.mel_spectrogram_torch(
            audio.squeeze(1).float(),
            hp.filter_length,
            hp.mel_channels,
            hp.sample_rate,
            hp.hop_length,
            hp.win_length,
            hp.mel_fmin,
            hp.mel_fmax,
        )
        return mel
