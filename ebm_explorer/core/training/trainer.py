"""The training loop: CD-k, PCD, Jarzynski-reweighted training and score matching (``sm``, ``dsm``,
see ``score_matching.py``), one iteration per :meth:`Trainer.step`.

minGPT style: the trainer knows nothing about who watches; ``add_callback("on_step_end", fn)`` is
the only hook and ``step()`` returns a frozen :class:`TrainMetrics`.

Order of operations in one iteration (docs/algorithms.md §4.6; GMM.py ``stat()``):

* **PCD / Jarzynski**: gradient at the current walkers with the current weights and ``theta_k``;
  move the walkers with ``theta_k``; optimiser step to ``theta_{k+1}``; evaluate ``U_theta_{k+1}`` at
  the new walkers; Jarzynski adds the log-weight increment: the alpha recursion for ULA, the AIS
  work ``-U_{k+1}(X_{k+1}) + U_k(X_{k+1})`` for MALA / HMC (4.2); then the log Z estimate; then
  resampling if the ESS/N measured *before* this update is below the threshold (as GMM.py, whose
  CV^2 is computed before the update).
* **SM / DSM**: the score-matching loss on the whole data set (DSM: fresh noise each iteration) and
  one optimiser step; no walkers are moved (they stay at data points, re-evaluated for the metrics).
* **Cross-fit** (Jarzynski, ``cross_fit``): a held-out walker population moves with the same
  ``theta_k`` and is reweighted with ``theta_{k+1}``, never entering the gradient; its estimate of
  log Z has no feedback bias (:mod:`~ebm_explorer.core.training.cross_fit`). Both estimates come with
  a standard error from the weights and the resampling genealogy.
* **CD**: every ``cd_reset`` iterations the walkers restart at random data points; then
  ``cd_steps`` kernel steps with ``theta_k``; then the gradient at the walkers; then the optimiser
  step. ``cd_reset = 1`` is textbook CD-k; GMM.py's baseline resets every 4 iterations.

Walkers whose position or energy becomes NaN/inf are dropped from every estimate (zero weight) and
counted in the metrics; a non-finite gradient or parameter raises :class:`NumericalError`.
"""

from __future__ import annotations

import copy
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ebm_explorer.core.devices import make_generator
from ebm_explorer.core.errors import NumericalError, UserInputError
from ebm_explorer.core.run_settings import KERNELS, METHODS, OPTIMIZERS, TrainSettings
from ebm_explorer.core.samplers import SamplerState, get_sampler
from ebm_explorer.core.samplers.langevin import langevin_move
from ebm_explorer.core.training import jarzynski as jz
from ebm_explorer.core.training.cross_fit import HELD_OUT_SEED_OFFSET, HeldOutWalkers
from ebm_explorer.core.training.diagnostics import GridDiagnostics, GridValues
from ebm_explorer.core.training.models import MixtureEnergy, TrainableEnergy, WeightedGradFn
from ebm_explorer.core.training.resampling import resample_indices
from ebm_explorer.core.training.score_matching import SCORE_METHODS, score_loss_and_grads

__all__ = ["METHODS", "KERNELS", "OPTIMIZERS", "TrainMetrics", "TrainHistory", "Trainer"]

assert set(SCORE_METHODS) <= set(METHODS), "core.run_settings.METHODS lists every training method"
EVENTS = ("on_step_end",)


def all_finite(tensors: list[torch.Tensor]) -> bool:
    """Every entry of every tensor is finite: one reduction and one host sync, not one per tensor."""
    return bool(torch.isfinite(torch.cat([t.reshape(-1) for t in tensors])).all())


@dataclass(frozen=True)
class TrainMetrics:
    """Everything measured after one iteration (parameters are ``theta_{k+1}``)."""

    iteration: int  # 1-based count of completed iterations
    kl: float  # exact KL(target || model) on the grid (NaN: data target or not evaluated this step)
    cross_entropy: float  # exact (grid) or empirical cross-entropy
    cross_entropy_est: float  # Jarzynski: mean U(data) + estimated log Z; NaN for CD/PCD
    log_z_exact: float
    log_z_est: float  # Jarzynski estimate from the training walkers (feedback-biased low); NaN for CD/PCD
    fisher: float
    mode_weights: np.ndarray  # (M,) model mass per target basin
    mode_weights_true: np.ndarray  # (M,)
    ess_fraction: float  # ESS/N after the weight update (1 for CD/PCD)
    resampled: bool
    resample_count: int
    energy_gap: float  # mean U(data) - (weighted) mean U(walkers)
    acceptance: float  # mean acceptance of the kernel (1 for ULA)
    nonfinite_walkers: int  # walkers dropped because their position/energy/weight is NaN or inf
    params: dict[str, np.ndarray] = field(default_factory=dict)
    loss: float = math.nan  # the score-matching objective (SM, DSM); NaN for the other methods
    log_z_se: float = math.nan  # standard error of log_z_est (weights and resampling genealogy)
    log_z_est_xfit: float = math.nan  # cross-fitted estimate: held-out walkers (no feedback bias)
    log_z_se_xfit: float = math.nan  # its standard error (also that of cross_entropy_est_xfit's log Z part)
    cross_entropy_est_xfit: float = math.nan  # mean U(data) + log_z_est_xfit
    ess_fraction_xfit: float = math.nan  # ESS/N of the held-out walkers
    data_energy: float = math.nan  # mean model energy U_theta on the data (walkers: data_energy - energy_gap)


class TrainHistory:
    """Collects :class:`TrainMetrics` into per-iteration arrays (``history_*`` of the npz)."""

    SCALARS = ("kl", "cross_entropy", "cross_entropy_est", "log_z_exact", "log_z_est", "fisher",
               "ess_fraction", "resampled", "resample_count", "energy_gap", "acceptance", "nonfinite_walkers",
               "loss",
               "log_z_se", "log_z_est_xfit", "log_z_se_xfit", "cross_entropy_est_xfit", "ess_fraction_xfit")

    def __init__(self) -> None:
        self.rows: list[TrainMetrics] = []

    def __call__(self, trainer: "Trainer") -> None:  # usable directly as an on_step_end callback
        self.rows.append(trainer.last_metrics)  # type: ignore[arg-type]

    def arrays(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for name in self.SCALARS:
            out[f"history_{name}"] = np.array([getattr(r, name) for r in self.rows], dtype=np.float64)
        out["history_ess"] = out.pop("history_ess_fraction")
        out["history_ess_xfit"] = out.pop("history_ess_fraction_xfit")
        m = self.rows[0].mode_weights.shape[0] if self.rows else 0
        out["history_mode_weights"] = np.array([r.mode_weights for r in self.rows]).reshape(len(self.rows), m)
        if self.rows:
            for name in self.rows[0].params:
                out[f"history_param_{name}"] = np.array([r.params[name] for r in self.rows])
        return out


class Trainer:
    """State: ``model``, ``optimizer``, ``walkers`` (N, 2), ``log_weights`` (N,) float64, ``log_z_ref``,
    ``resample_count``. Build it, then call :meth:`step` as often as wanted.

    ``settings`` is the run's :class:`TrainSettings` (the trainer reads the method, kernel, optimiser,
    walkers and resampling from it; model, data, dtype and device come with ``model`` and ``data``).
    ``group_lr``: per-group learning rates over the settings' ones (``lr``; mixture means
    ``lr * means_lr_scale``). ``stratified_init``: Jarzynski starts with deterministic walker counts per
    component. ``diagnostics_every``: exact grid diagnostics every this many iterations (NaN between).
    """

    def __init__(
        self,
        model: TrainableEnergy,
        data: torch.Tensor,
        settings: TrainSettings,
        diagnostics: GridDiagnostics | None = None,
        generator: torch.Generator | None = None,
        *,
        group_lr: tuple[tuple[str, float], ...] = (),
        stratified_init: bool = False,
        diagnostics_every: int = 1,
    ) -> None:
        self.config = config = settings.validated()
        if isinstance(diagnostics_every, bool) or not isinstance(diagnostics_every, int) or diagnostics_every < 1:
            raise UserInputError(f"diagnostics every must be an integer >= 1, got {diagnostics_every!r}")
        for group, v in group_lr:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise UserInputError(f"learning rate of group {group!r} must be a finite number >= 0, got {v!r}")
        self.group_lr = tuple(group_lr)
        self.diagnostics_every = diagnostics_every
        self.model = model
        dev = next(model.parameters()).device
        self.device = dev
        self.dtype = next(model.parameters()).dtype
        self.data = data.to(device=dev, dtype=self.dtype)  # (n, 2)
        if self.data.ndim != 2 or self.data.shape[1] != 2 or self.data.shape[0] < 1:
            raise UserInputError(f"data must have shape (n, 2), got {tuple(self.data.shape)}")
        self.diagnostics = diagnostics
        self.generator = generator if generator is not None else make_generator(config.seed, dev)
        self.optimizer = self._build_optimizer()
        self.callbacks: dict[str, list[Callable[["Trainer"], None]]] = defaultdict(list)
        self.sampler_params = config.kernel_params()
        self.iteration = 0
        self._version = 0  # bumped at every optimiser step: keys the data-phase cache
        self._data_cache: tuple[int, torch.Tensor, list[torch.Tensor]] | None = None
        self.resample_count = 0
        self.last_metrics: TrainMetrics | None = None
        self._moved: torch.Tensor | None = None  # walkers after this iteration's move (PCD / Jarzynski)
        self._after_kernel: SamplerState | None = None  # MALA/HMC state after a move, under theta_k
        self._stale = False  # CD: cached energies belong to the previous parameters
        self._finite_at: tuple[SamplerState, torch.Tensor] | None = None  # (state, its finite mask)
        self._param_grad_at: tuple[SamplerState, int, WeightedGradFn] | None = None  # (state, version, fn)
        n = config.walkers
        if config.method == "jarzynski":
            walkers = model.initial_samples(n, self.generator, stratified=stratified_init)
            self.log_z_ref = model.initial_log_z()  # log Z at the last resampling (here: theta_0, exact)
        else:
            walkers = self._data_draw(n)
            self.log_z_ref = math.nan
        self.log_weights = torch.zeros(n, dtype=torch.float64, device=dev)  # A = 0
        self.ancestors = torch.arange(n, device=dev)  # initial walker each descends from (standard error)
        self.held_out: HeldOutWalkers | None = None
        if config.method == "jarzynski" and config.cross_fit:
            self.held_out = HeldOutWalkers(
                model, n, config.kernel, config.step_size, config.leapfrog_steps, config.resample_threshold,
                config.resample_scheme, make_generator(config.seed + HELD_OUT_SEED_OFFSET, dev),
                stratified=stratified_init)
        self.state = self._evaluate(walkers.to(device=dev, dtype=self.dtype))

    # --- public API ------------------------------------------------------------------------------
    def add_callback(self, event: str, fn: Callable[["Trainer"], None]) -> None:
        """Call ``fn(trainer)`` on ``event`` (``"on_step_end"``; ``trainer.last_metrics`` holds the metrics)."""
        if event not in EVENTS:
            raise UserInputError(f"unknown trainer event {event!r}: choose one of {', '.join(EVENTS)}")
        self.callbacks[event].append(fn)

    @property
    def walkers(self) -> torch.Tensor:
        return self.state.position

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue this run: iteration, walkers ``(N, 2)`` and log weights ``(N,)``
        (float64 numpy copies), model parameters (numpy), the optimiser's ``state_dict()``, the log Z
        reference, the resampling count and genealogy. Not included: the generator's state and the
        held-out walkers of the cross-fitted estimate."""
        return {
            "iteration": int(self.iteration),
            "walkers": self.walkers.detach().cpu().numpy().astype(np.float64),
            "log_weights": self.log_weights.detach().cpu().numpy().astype(np.float64),
            "params": {k: v.detach().cpu().numpy().copy() for k, v in self.model.state_dict().items()},
            "optimizer": copy.deepcopy(self.optimizer.state_dict()),  # a copy: Adam updates its moments in place
            "log_z_ref": float(self.log_z_ref),
            "resample_count": int(self.resample_count),
            "ancestors": self.ancestors.detach().cpu().numpy().copy(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state`` (:meth:`state_dict`'s layout; missing optional entries keep their value)."""
        walkers = np.asarray(state["walkers"])
        if walkers.shape != tuple(self.walkers.shape):
            raise UserInputError(f"saved state has {walkers.shape[0]} walkers, this run has {self.walkers.shape[0]}")
        self.model.load_state_dict({k: torch.as_tensor(v) for k, v in state["params"].items()})
        if state.get("optimizer"):
            self.optimizer.load_state_dict(state["optimizer"])
        self._version += 1  # cached data-phase energies and parameter gradients belong to the old parameters
        self._data_cache = None
        self._moved = self._after_kernel = None
        self.state = self._evaluate(torch.as_tensor(walkers, dtype=self.dtype, device=self.device))
        if state.get("log_weights") is not None:
            self.log_weights = torch.as_tensor(np.asarray(state["log_weights"]), dtype=torch.float64, device=self.device)
        self.log_z_ref = float(state.get("log_z_ref", self.log_z_ref))
        self.resample_count = int(state.get("resample_count", self.resample_count))
        # without the resampling genealogy the standard error restarts from the weights; the held-out walkers
        # are never restored: their weights belong to another parameter path, so a restored run shows no
        # cross-fitted estimate
        ancestors = state.get("ancestors")
        self.ancestors = (torch.as_tensor(np.asarray(ancestors), device=self.device) if ancestors is not None
                          else torch.arange(self.walkers.shape[0], device=self.device))
        self.held_out = None
        self.iteration = int(state["iteration"])

    @property
    def cross_fit_resamplings(self) -> int | None:
        """Resamplings of the held-out (cross-fit) walkers; None without them."""
        return None if self.held_out is None else self.held_out.resample_count

    def log_z_estimate(self) -> float:
        """``log Z_{k_r} + log mean e^A`` (Jarzynski only; NaN otherwise)."""
        if self.config.method != "jarzynski":
            return math.nan
        return self.log_z_ref + float(jz.log_mean_weight(self.log_weights))

    def run(self, iterations: int,
            should_stop: Callable[[], bool] | None = None) -> tuple[dict[str, np.ndarray], float]:
        """Run ``iterations`` steps, recording every one: ``(history_* arrays, wall-clock seconds)``.

        ``should_stop()`` is asked before every step; once it returns True the run ends there (the
        arrays then hold fewer rows than ``iterations``: Ctrl-C on the command line saves them)."""
        history = TrainHistory()
        self.add_callback("on_step_end", history)
        start = time.perf_counter()
        for _ in range(iterations):
            if should_stop is not None and should_stop():
                break
            self.step()
        return history.arrays(), time.perf_counter() - start

    def advance(self, iterations: int, each: Callable[[], None] | None = None) -> None:
        """``iterations`` iterations, calling ``each()`` after every one; ``last_metrics`` then describes
        the last. Here every iteration computes its metrics; the fused mixture trainer computes only the
        last one's (a live view needs no more)."""
        for _ in range(iterations):
            self.step()
            if each is not None:
                each()

    def step(self) -> TrainMetrics:
        """One training iteration; returns (and passes to the callbacks) its metrics."""
        cfg = self.config
        if cfg.method in SCORE_METHODS:
            return self._score_step()
        if cfg.method == "cd":
            accept = self._cd_negative_phase()
        ok = self._finite()
        if cfg.method == "jarzynski":
            self.log_weights = jz.sanitize_log_weights(self.log_weights, ok)
            if not bool(torch.isfinite(self.log_weights).any()):
                raise NumericalError("every Jarzynski walker has a NaN/inf position or weight: "
                                     "reduce the step size or the learning rate")
            w, ess_before = jz.weights_and_ess(self.log_weights)
        else:
            w = self._uniform_weights(ok)
        grads = self._ce_gradient(w, ok)

        if cfg.method != "cd":
            accept, energy_old_at_new = self._move_with_current_params()
            if self.held_out is not None:
                self.held_out.move()
        self._optimizer_step(grads)

        resampled = False
        if cfg.method == "cd":
            self._stale = True
        else:
            old = self.state
            new = self._evaluate(self._moved)
            if cfg.method == "jarzynski":
                inc = jz.log_weight_increment(cfg.kernel, old, new, energy_old_at_new, cfg.step_size)
                self.log_weights = self.log_weights + inc
            self.state = new
        ok = self._finite()
        if cfg.method == "jarzynski":
            self.log_weights = jz.sanitize_log_weights(self.log_weights, ok)
        log_z_est = self.log_z_estimate()
        estimates = {}
        if cfg.method == "jarzynski":
            estimates["log_z_se"] = jz.log_z_standard_error(self.log_weights, self.ancestors)
        if self.held_out is not None:
            estimates["log_z_est_xfit"], estimates["log_z_se_xfit"] = self.held_out.reweight()
            estimates["ess_fraction_xfit"] = self.held_out.ess_fraction
        if cfg.method == "jarzynski" and ess_before < cfg.resample_threshold:
            self._resample()
            self.log_z_ref = log_z_est
            resampled = True
        self.iteration += 1
        self.last_metrics = self._metrics(log_z_est, resampled, accept, self._finite(), estimates)
        for fn in self.callbacks["on_step_end"]:
            fn(self)
        return self.last_metrics

    def _score_step(self) -> TrainMetrics:
        """One SM / DSM iteration: loss and gradient on the data, optimiser step, metrics."""
        cfg = self.config
        loss, grads = score_loss_and_grads(self.model, self.data, cfg.method, cfg.noise_std, self.generator)
        self._optimizer_step(grads)
        self.state = self._evaluate(self.state.position)
        self.iteration += 1
        self.last_metrics = replace(self._metrics(math.nan, False, 1.0, self._finite()), loss=loss)
        for fn in self.callbacks["on_step_end"]:
            fn(self)
        return self.last_metrics

    # --- pieces of an iteration --------------------------------------------------------------------
    def _group_lrs(self) -> dict[str, float]:
        """Learning rate of each parameter group (``lr``, means ``lr * means_lr_scale``, ``group_lr`` over both)."""
        cfg = self.config
        groups = self.model.param_groups()
        overrides = {"means": cfg.lr * cfg.means_lr_scale} if "means" in groups else {}
        overrides.update(self.group_lr)
        unknown = set(overrides) - set(groups)
        if unknown:
            raise UserInputError(f"unknown parameter group(s) {sorted(unknown)}: the model has {sorted(groups)}")
        return {name: overrides.get(name, cfg.lr) for name in groups}

    def _build_optimizer(self) -> torch.optim.Optimizer:
        cfg = self.config
        groups = self.model.param_groups()
        lrs = self._group_lrs()
        param_groups = [{"params": ps, "lr": lrs[name], "name": name} for name, ps in groups.items()]
        if cfg.optimizer == "sgd":
            return torch.optim.SGD(param_groups, lr=cfg.lr)
        return torch.optim.Adam(param_groups, lr=cfg.lr)

    def _data_draw(self, n: int) -> torch.Tensor:
        idx = torch.randint(self.data.shape[0], (n,), generator=self.generator, device=self.device)
        return self.data[idx]

    def _evaluate(self, position: torch.Tensor) -> SamplerState:
        """The state at ``position`` under the current parameters; keeps the parameter-gradient terms
        of the same pass for :meth:`_ce_gradient` while this state and these parameters last."""
        energy, grad, param_grad_fn = self.model.energy_grad_and_param_grad_fn(position)
        self._stale = False
        state = SamplerState(position, energy, grad)
        self._param_grad_at = (state, self._version, param_grad_fn)
        return state

    def _finite(self) -> torch.Tensor:
        """``(N,)`` bool: walkers whose position, energy and gradient are finite (NaN/inf propagate
        through the sum, which is cheaper than reducing each ``(N, 2)`` array on its own). Computed
        once per state: the states are immutable tuples, so identity means the same walkers."""
        s = self.state
        if self._finite_at is not None and self._finite_at[0] is s:
            return self._finite_at[1]
        ok = torch.isfinite(s.energy + s.position[:, 0] + s.position[:, 1] + s.grad[:, 0] + s.grad[:, 1])
        self._finite_at = (s, ok)
        return ok

    def _uniform_weights(self, ok: torch.Tensor) -> torch.Tensor:
        n_ok = int(ok.sum())
        if n_ok == 0:
            raise NumericalError("every walker has a NaN/inf position: reduce the step size or the learning rate")
        return ok.to(torch.float64) / n_ok

    def _data_phase(self) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``U(data)`` and ``mean_j dU(x*_j)`` at the current parameters, cached until the next optimiser step."""
        if self._data_cache is None or self._data_cache[0] != self._version:
            n = self.data.shape[0]
            w = torch.full((n,), 1.0 / n, dtype=self.dtype, device=self.device)
            e, g = self.model.energy_and_weighted_param_grad(self.data, w)
            self._data_cache = (self._version, e, g)
        return self._data_cache[1], self._data_cache[2]

    def _ce_gradient(self, w: torch.Tensor, ok: torch.Tensor) -> list[torch.Tensor]:
        """``mean_j dU(x*_j) - sum_i w_i dU(X_i)`` per parameter (dropped walkers: position 0, weight 0)."""
        pos = self._data_phase()[1]
        at = self._param_grad_at
        if at is not None and at[0] is self.state and at[1] == self._version and bool(ok.all()):
            neg = at[2](w.to(self.dtype))  # the terms of the pass that evaluated these walkers
        else:
            x = torch.where(ok[:, None], self.state.position, torch.zeros_like(self.state.position))
            neg = self.model.weighted_param_grad(x, w.to(self.dtype))
        grads = [p - q for p, q in zip(pos, neg)]
        if not all_finite(grads):
            raise NumericalError(f"the cross-entropy gradient is NaN/inf at iteration {self.iteration + 1}: "
                                 "the model or the walkers diverged (reduce the learning rate or step size)")
        return grads

    def _optimizer_step(self, grads: list[torch.Tensor]) -> None:
        for p, g in zip(self.model.trainable(), grads):
            p.grad = g
        self.optimizer.step()
        self._version += 1
        if not all_finite([p.detach() for p in self.model.trainable()]):
            raise NumericalError(f"model parameters became NaN/inf at iteration {self.iteration + 1}: "
                                 "reduce the learning rate")

    def _kernel_step(self) -> tuple[torch.Tensor, float]:
        """One kernel step from ``self.state`` with the current parameters: (new position, acceptance).

        For MALA/HMC ``self.state`` becomes the state at the new point under the *current* parameters.
        """
        cfg = self.config
        s = self.state
        if cfg.kernel == "ula":
            return langevin_move(self.generator, s.position, s.grad, cfg.step_size), 1.0
        new_state, info = get_sampler(cfg.kernel).step(self.generator, s, self.model, self.sampler_params)
        self._after_kernel = new_state
        return new_state.position, float(info.accepted.to(torch.float64).mean())

    def _move_with_current_params(self) -> tuple[float, torch.Tensor | None]:
        """PCD/Jarzynski move with ``theta_k``; returns the acceptance and ``U_theta_k(X_{k+1})`` (MALA/HMC)."""
        self._moved, accept = self._kernel_step()
        if self.config.kernel == "ula":
            return accept, None
        return accept, self._after_kernel.energy

    def _cd_negative_phase(self) -> float:
        """Reset to data every ``cd_reset`` iterations, then ``cd_steps`` kernel steps with ``theta_k``."""
        cfg = self.config
        if self.iteration % cfg.cd_reset == 0:
            self.state = self._evaluate(self._data_draw(cfg.walkers))
        elif self._stale:
            self.state = self._evaluate(self.state.position)
        acc = 0.0
        for _ in range(cfg.cd_steps):
            pos, a = self._kernel_step()
            self.state = self._after_kernel if cfg.kernel != "ula" else self._evaluate(pos)
            acc += a / cfg.cd_steps
        return acc

    def _resample(self) -> None:
        idx = resample_indices(self.config.resample_scheme, self.log_weights, self.generator)
        s = self.state
        self.state = SamplerState(s.position[idx], s.energy[idx], s.grad[idx])
        self.ancestors = self.ancestors[idx]
        self.log_weights = torch.zeros_like(self.log_weights)
        self.resample_count += 1

    def _metrics(self, log_z_est: float, resampled: bool, accept: float, ok: torch.Tensor,
                 estimates: dict[str, float] | None = None) -> TrainMetrics:
        """``ok``: the walkers' finite mask for the current state (computed once per iteration);
        ``estimates``: the standard errors and cross-fitted values of this iteration (Jarzynski)."""
        cfg = self.config
        data_energy = float(self._data_phase()[0].double().mean())
        if cfg.method == "jarzynski":
            w, ess = jz.weights_and_ess(self.log_weights)
        else:
            w = self._uniform_weights(ok)
            ess = 1.0
        walker_energy = float((w * torch.where(ok, self.state.energy.double(), 0.0)).sum())
        grid = self._grid_values(data_energy)
        ce_est = data_energy + log_z_est if cfg.method == "jarzynski" else math.nan
        estimates = dict(estimates or {})
        if "log_z_est_xfit" in estimates:
            estimates["cross_entropy_est_xfit"] = data_energy + estimates["log_z_est_xfit"]
        mw_true = self.diagnostics.mode_weights_true if self.diagnostics is not None else np.zeros(0)
        return TrainMetrics(
            iteration=self.iteration,
            kl=grid.kl,
            cross_entropy=grid.cross_entropy,
            cross_entropy_est=ce_est,
            log_z_exact=grid.log_z,
            log_z_est=log_z_est,
            fisher=grid.fisher,
            mode_weights=grid.mode_weights,
            mode_weights_true=mw_true,
            ess_fraction=ess,
            resampled=resampled,
            resample_count=self.resample_count,
            energy_gap=data_energy - walker_energy,
            data_energy=data_energy,
            acceptance=accept,
            nonfinite_walkers=int((~ok).sum()),
            params=self._mixture_params(),
            **estimates,
        )

    def _mixture_params(self) -> dict[str, np.ndarray]:
        """Mixture parameters and closed-form component masses (an MLP's weights are not traced)."""
        if not isinstance(self.model, MixtureEnergy):
            return {}
        return {**self.model.param_arrays(), "masses": self.model.mode_masses()}

    def _grid_values(self, data_energy: float) -> GridValues:
        d = self.diagnostics
        m = d.n_modes if d is not None else 0
        closed = self.model.log_z_exact()
        if d is not None and self.iteration % self.diagnostics_every == 0:
            return d.evaluate(self.model, data_energy)
        log_z = closed if closed is not None else math.nan
        ce = data_energy + log_z if d is None or d.reference is None else math.nan
        return GridValues(log_z, ce, math.nan, math.nan, np.full(m, math.nan))
