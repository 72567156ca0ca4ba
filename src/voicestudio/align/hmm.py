"""Left-to-right HMM pieces for forced alignment: diagonal Gaussian mixtures and a banded Viterbi pass.

Pure numpy, vectorised over frames and states; the models are trained by hard (Viterbi) assignment, so
each state's mixture is fitted to the frames it was given.
"""

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

# Variances never fall below this share of the pooled variance, so a state fitted to a few near-identical
# frames cannot claim an unbounded likelihood.
VARIANCE_FLOOR_SHARE: Final = 0.05
EM_ITERATIONS: Final = 4
_LOG_2PI: Final = float(np.log(2.0 * np.pi))


@dataclass(frozen=True, slots=True, eq=False)
class DiagonalGmm:
    """A mixture of Gaussians with diagonal covariance: weights (m), means and variances (m × dims)."""

    weights: npt.NDArray[np.float64]
    means: npt.NDArray[np.float64]
    variances: npt.NDArray[np.float64]

    def log_likelihood(self, frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """log p(frame) for every frame (frames × dims → frames)."""
        return _logsumexp(_component_log_likelihoods(self, frames), axis=1)


def fit_gmm(
    frames: npt.NDArray[np.float32], mixtures: int, variance_floor: npt.NDArray[np.float64]
) -> DiagonalGmm:
    """A mixture of up to `mixtures` components, grown by splitting the widest one and refined by EM."""
    data = np.asarray(frames, dtype=np.float64)
    gmm = DiagonalGmm(
        np.ones(1), data.mean(axis=0, keepdims=True), np.maximum(data.var(axis=0), variance_floor)[None, :]
    )
    for _ in range(mixtures - 1):
        gmm = _split_heaviest(gmm)
        for _ in range(EM_ITERATIONS):
            gmm = _em_step(gmm, data, variance_floor)
    return gmm


def pooled_variance_floor(frames: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """The per-dimension variance floor for models trained on `frames`."""
    return np.asarray(VARIANCE_FLOOR_SHARE * np.asarray(frames, dtype=np.float64).var(axis=0) + 1e-6)


def forced_viterbi(
    log_emissions: npt.NDArray[np.float64],
    log_stay: npt.NDArray[np.float64],
    log_leave: npt.NDArray[np.float64],
) -> npt.NDArray[np.int64] | None:
    """The best state per frame through states 0, 1, … S−1 in order (each at least one frame), or None.

    `log_emissions` (frames × states) is −inf where a state may not be; the path starts in state 0 and
    ends in state S−1. `log_leave` is per state, or per frame and state (the frame the next state starts).
    None when no path fits.
    """
    leave = np.broadcast_to(log_leave, log_emissions.shape)
    frames, states = log_emissions.shape
    if states > frames:
        return None
    came_from_previous = np.zeros((frames, states), dtype=bool)
    best = np.full(states, -np.inf)
    best[0] = log_emissions[0, 0]
    moved = np.full(states, -np.inf)
    for t in range(1, frames):
        stayed = best + log_stay
        moved[1:] = best[:-1] + leave[t, :-1]
        came = moved > stayed
        came_from_previous[t] = came
        best = np.where(came, moved, stayed) + log_emissions[t]
    if not np.isfinite(best[-1]):
        return None
    path = np.empty(frames, dtype=np.int64)
    state = states - 1
    for t in range(frames - 1, -1, -1):
        path[t] = state
        if came_from_previous[t, state]:
            state -= 1
    return path if state == 0 else None


def _component_log_likelihoods(gmm: DiagonalGmm, frames: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """log(weight · N(frame; component)) for every frame and component (frames × m)."""
    x = np.asarray(frames, dtype=np.float64)
    precision = 1.0 / gmm.variances
    quadratic = (x * x) @ precision.T - 2.0 * x @ (gmm.means * precision).T
    quadratic += (gmm.means * gmm.means * precision).sum(axis=1)
    log_norm = np.log(gmm.variances).sum(axis=1) + x.shape[1] * _LOG_2PI
    return np.asarray(np.log(gmm.weights) - 0.5 * (quadratic + log_norm))


def _split_heaviest(gmm: DiagonalGmm) -> DiagonalGmm:
    """One more component: the heaviest is halved into two, nudged ±0.2 standard deviations apart."""
    k = int(np.argmax(gmm.weights))
    nudge = 0.2 * np.sqrt(gmm.variances[k])
    means = np.vstack([gmm.means, gmm.means[k] + nudge])
    means[k] -= nudge
    weights = np.append(gmm.weights, gmm.weights[k] / 2.0)
    weights[k] /= 2.0
    return DiagonalGmm(weights, means, np.vstack([gmm.variances, gmm.variances[k]]))


def _em_step(
    gmm: DiagonalGmm, data: npt.NDArray[np.float64], variance_floor: npt.NDArray[np.float64]
) -> DiagonalGmm:
    """One expectation-maximisation step; a component that loses all its frames is dropped."""
    joint = _component_log_likelihoods(gmm, data)
    responsibility = np.exp(joint - _logsumexp(joint, axis=1)[:, None])
    mass = responsibility.sum(axis=0)
    alive = mass > 1.0
    responsibility, mass = responsibility[:, alive], mass[alive]
    means = (responsibility.T @ data) / mass[:, None]
    variances = (responsibility.T @ (data * data)) / mass[:, None] - means * means
    return DiagonalGmm(mass / mass.sum(), means, np.maximum(variances, variance_floor[None, :]))


def _logsumexp(values: npt.NDArray[np.float64], axis: int) -> npt.NDArray[np.float64]:
    peak = np.max(values, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    total = np.log(np.sum(np.exp(values - peak), axis=axis, keepdims=True)) + peak
    return np.asarray(np.squeeze(total, axis=axis))
