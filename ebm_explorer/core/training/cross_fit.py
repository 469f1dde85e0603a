"""A held-out Jarzynski population: a log Z estimate without the feedback bias of training.

Why the trainer's own estimate is biased: the Jarzynski identity ``E[e^A] = Z_theta_k / Z_theta_0``
holds for a parameter path fixed in advance. In training the path is chosen by the walkers: the
update ``theta_{k+1} = theta_k - lr * g_hat`` uses the weighted walkers' gradient estimate
``g_hat = g + eps``, and the same walkers' weights then estimate ``log Z``. To first order each step
moves ``log Z`` by ``lr * g_hat . E_w[dU]`` where the walkers' own error ``eps`` appears twice, which
leaves ``-lr E|eps|^2`` in the estimate's expectation: an ``O(lr / N)`` bias per step that accumulates
over the run (docs/jarzynski_bias.md has the derivation and the measured sizes).

The cure is cross-fitting: a second population of walkers, started from exact samples of the initial
model like the first, moved by the same kernel with the same parameters ``theta_k`` and reweighted by
the same recursion, resampled on its own ESS, but never used in the gradient and driven by its own
random stream. The parameter path is then a function of the training walkers only, so for the
held-out walkers it is a prescribed path: ``Z_hat = Z_0 * prod_segments mean(e^A)`` is unbiased for
``Z_theta_k`` (sequential Monte Carlo with adaptive resampling), and ``log Z_hat`` is off only by the
Jensen term ``-Var(Z_hat / Z) / 2 ~ -SE^2 / 2``. Because the held-out walkers have their own generator,
turning the population on or off leaves the training itself bit-for-bit unchanged.

A symmetric split (each half estimating while the other drives the gradient) is not possible with one
parameter path: any walker that entered a gradient has steered the path its weights are measured
along. The held-out population costs one energy and position-gradient evaluation per walker and
iteration (two for MALA/HMC), and no parameter gradients.
"""

from __future__ import annotations

import torch

from ebm_explorer.core.samplers import SamplerParams, SamplerState, get_sampler
from ebm_explorer.core.samplers.langevin import langevin_move
from ebm_explorer.core.training import jarzynski as jz
from ebm_explorer.core.training.models import TrainableEnergy
from ebm_explorer.core.training.resampling import resample_indices

__all__ = ["HeldOutWalkers", "HELD_OUT_SEED_OFFSET"]

#: the held-out walkers' generator is seeded with ``seed + HELD_OUT_SEED_OFFSET``: a stream of its own
HELD_OUT_SEED_OFFSET = 7_919_000_003


class HeldOutWalkers:
    """``n`` Jarzynski walkers moved along the trainer's parameter path and never used in its gradient.

    Call :meth:`move` with the parameters ``theta_k`` the training walkers moved with, then, after the
    optimiser step, :meth:`reweight` with ``theta_{k+1}``; it returns ``(log Z estimate, standard error)``.
    """

    def __init__(self, model: TrainableEnergy, n: int, kernel: str, step_size: float, leapfrog_steps: int,
                 resample_threshold: float, resampling: str, generator: torch.Generator,
                 stratified: bool = False) -> None:
        self.model = model
        self.kernel = kernel
        self.step_size = float(step_size)
        self.sampler_params = SamplerParams(step_size=step_size, leapfrog_steps=leapfrog_steps)
        self.resample_threshold = float(resample_threshold)
        self.resampling = resampling
        self.generator = generator
        p = next(model.parameters())
        pos = model.initial_samples(n, generator, stratified=stratified).to(device=p.device, dtype=p.dtype)
        self.state = self._evaluate(pos)
        self.log_weights = torch.zeros(n, dtype=torch.float64, device=p.device)
        self.ancestors = torch.arange(n, device=p.device)
        self.log_z_ref = model.initial_log_z()  # log Z at the last resampling (first: theta_0, exact)
        self.resample_count = 0
        self.ess_fraction = 1.0
        self._pending: tuple[SamplerState, torch.Tensor, torch.Tensor | None, float] | None = None

    def _evaluate(self, position: torch.Tensor) -> SamplerState:
        with torch.no_grad():
            energy, grad = self.model.energy_and_grad(position)
        return SamplerState(position, energy, grad)

    def _finite(self, s: SamplerState) -> torch.Tensor:
        return torch.isfinite(s.energy + s.position[:, 0] + s.position[:, 1] + s.grad[:, 0] + s.grad[:, 1])

    def move(self) -> None:
        """One kernel step with the model's current parameters ``theta_k`` (before the optimiser step)."""
        s = self.state
        _, ess_before = jz.weights_and_ess(self.log_weights)
        if self.kernel == "ula":
            moved, energy_old_at_new = langevin_move(self.generator, s.position, s.grad, self.step_size), None
        else:
            after, _ = get_sampler(self.kernel).step(self.generator, s, self.model, self.sampler_params)
            moved, energy_old_at_new = after.position, after.energy
        self._pending = (s, moved, energy_old_at_new, ess_before)

    def reweight(self) -> tuple[float, float]:
        """Weight increment under ``theta_{k+1}``, the estimate, then resampling if the ESS/N measured
        before this update was below the threshold (the training walkers' order). Returns
        ``(log Z estimate, its standard error)``, both measured before any resampling."""
        assert self._pending is not None, "move() must come before reweight()"
        old, moved, energy_old_at_new, ess_before = self._pending
        self._pending = None
        new = self._evaluate(moved)
        inc = jz.log_weight_increment(self.kernel, old, new, energy_old_at_new, self.step_size)
        self.state = new
        self.log_weights = jz.sanitize_log_weights(self.log_weights + inc, self._finite(new))
        if not bool(torch.isfinite(self.log_weights).any()):
            self.ess_fraction = 0.0
            return float("nan"), float("nan")
        estimate = self.log_z_ref + float(jz.log_mean_weight(self.log_weights))
        se = jz.log_z_standard_error(self.log_weights, self.ancestors)
        _, self.ess_fraction = jz.weights_and_ess(self.log_weights)
        if ess_before < self.resample_threshold:
            idx = resample_indices(self.resampling, self.log_weights, self.generator)
            self.state = SamplerState(new.position[idx], new.energy[idx], new.grad[idx])
            self.ancestors = self.ancestors[idx]
            self.log_weights = torch.zeros_like(self.log_weights)
            self.log_z_ref = estimate
            self.resample_count += 1
        return estimate, se
