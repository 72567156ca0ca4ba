"""The studio's training step runs each discriminator once, and still gives piper's losses and gradients."""

from typing import Any

import pytest
import torch
from piper.train.vits.lightning import VitsModel

from voicestudio.neural.dataset import data_module
from voicestudio.neural.device_demands import DeviceDemands
from voicestudio.neural.model import build_model
from voicestudio.neural.presets import preset_hyperparameters
from voicestudio.neural.step import StudioVits
from voicestudio.neural.values import Dataset

SEED = 7  # the generator draws slices, noise and dropout: both steps draw the same


@pytest.fixture(scope="module")
def batch(english_dataset: Dataset) -> Any:
    """Two utterances of the fixture set, as piper's data module hands them to a training step."""
    module = data_module(english_dataset, batch_size=2)
    module.prepare_data()
    module.setup("fit")
    return next(iter(module.train_dataloader()))


def _gradients(loss: torch.Tensor, module: torch.nn.Module) -> list[torch.Tensor]:
    weights = list(module.parameters())
    found = torch.autograd.grad(loss, weights, retain_graph=True, allow_unused=True)
    return [torch.zeros_like(w) if g is None else g for w, g in zip(weights, found, strict=True)]


def _assert_same_gradients(ours: torch.Tensor, theirs: torch.Tensor, module: torch.nn.Module) -> None:
    for our_grad, their_grad in zip(_gradients(ours, module), _gradients(theirs, module), strict=True):
        torch.testing.assert_close(our_grad, their_grad, rtol=1e-4, atol=1e-6)


def _kernels(call: Any) -> int:
    """Operators the call runs: on a GPU, kernel launches."""
    with DeviceDemands() as demands:
        call()
    return demands.kernels


@pytest.mark.parametrize("preset", ["tiny", "medium"])
def test_one_discriminator_pass_gives_piper_s_losses_and_gradients(preset: str, batch: Any) -> None:
    torch.manual_seed(0)
    model = build_model(preset_hyperparameters(preset), batch_size=2)  # type: ignore[arg-type]
    model.train()

    torch.manual_seed(SEED)
    their_generator_loss, their_discriminator_loss, their_parts = VitsModel._compute_loss(model, batch)
    torch.manual_seed(SEED)
    ours = model.step_losses(batch)

    torch.testing.assert_close(ours.generator, their_generator_loss, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(ours.discriminator, their_discriminator_loss, rtol=1e-5, atol=1e-5)
    assert ours.parts.keys() == their_parts.keys()
    for name, value in their_parts.items():
        torch.testing.assert_close(ours.parts[name], value, rtol=1e-5, atol=1e-5)
    # The generator learns from its loss alone, the discriminator from its own: piper's two updates.
    _assert_same_gradients(ours.generator, their_generator_loss, model.model_g)
    _assert_same_gradients(ours.discriminator, their_discriminator_loss, model.model_d)


def test_a_step_asks_the_discriminators_once(batch: Any) -> None:
    torch.manual_seed(0)
    model: StudioVits = build_model(preset_hyperparameters("medium"), batch_size=2)
    model.train()

    ours = _kernels(lambda: model.step_losses(batch))
    theirs = _kernels(lambda: VitsModel._compute_loss(model, batch))
    # piper's period discriminator has 38 layers, each a convolution and a weight norm at least, and
    # piper asks it four times a step (2 781 operators against 3 112 on the fixture batch).
    assert theirs - ours >= 3 * 38 * 2


def test_both_optimizers_step_fused_and_keep_piper_s_settings() -> None:
    model = build_model(preset_hyperparameters("tiny"), batch_size=2)

    optimizers, schedulers = model.configure_optimizers()

    assert [group["fused"] for optimizer in optimizers for group in optimizer.param_groups] == [True, True]
    assert [optimizer.param_groups[0]["lr"] for optimizer in optimizers] == [
        model.hparams["learning_rate"],
        model.hparams["learning_rate_d"],
    ]
    assert len(schedulers) == 2


def test_a_run_resumed_from_an_unfused_optimizer_steps_fused_again() -> None:
    model = build_model(preset_hyperparameters("tiny"), batch_size=2)
    weights = list(model.model_g.parameters())
    older_run = torch.optim.AdamW(weights, lr=1e-4)  # how checkpoints were saved before fused AdamW
    for weight in weights:
        weight.grad = torch.ones_like(weight)
    older_run.step()
    optimizers, _ = model.configure_optimizers()

    optimizers[0].load_state_dict(older_run.state_dict())
    optimizers[0].step()

    assert optimizers[0].param_groups[0]["fused"] is True
    assert optimizers[0].state[weights[0]]["step"].item() == 2.0
