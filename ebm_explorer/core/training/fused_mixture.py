"""The fused training iteration for a Gaussian-mixture model: same algorithm as :class:`Trainer`, a
fraction of the work.

Why it is faster. The general trainer evaluates the model through ``MixtureEnergy`` (one pass for the
walkers, one for the data, one for the grid diagnostics every iteration), moves the walkers in an
``(N, 2)`` layout whose columns are strided, and builds a full :class:`TrainMetrics` per iteration.
Here one evaluation per iteration covers the training walkers, the held-out (cross-fit) walkers and
the data at once, laid out as rows ``(x, y, 1, |x|^2)`` of one ``(4, L)`` buffer, so that

* the component logits are one matrix product: ``l_j = -|x - a_j|^2 / 2 s_j^2 - z_j`` is linear in
  those four rows (two components: one matrix-vector product for ``l_1 - l_2`` and a sigmoid);
* every parameter gradient of ``sum_i v_i U(x_i)`` (means, log-widths, z) follows in closed form from
  one ``(M, L) @ (L, 4)`` product of the responsibilities with the same rows, where ``v`` is
  ``-w`` on the walkers and ``1/n`` on the data: the cross-entropy gradient in one product;
* the walkers' noise is drawn in float32 (a Gaussian either way; float64 Box-Muller costs 5x more
  on CPU) and enters float64 arithmetic;
* the parameter side (a few numbers: coefficients, closed-form gradients, the SGD step) is numpy,
  written back to the model where others read it;
* histories are small arrays stacked at the end; the grid diagnostics and the genealogy standard
  error run on the ``diagnostics_every`` schedule and at the last iteration, not every iteration.

Supported: a :class:`MixtureEnergy` (any number of components, learnt or fixed widths, first ``z``
frozen or not), methods ``cd``, ``pcd`` and ``jarzynski`` with the ULA kernel and plain SGD, with or
without the cross-fitted held-out population. :func:`fused_support` says why another configuration
is not, and :func:`~ebm_explorer.core.training.recipe.build_trainer` then keeps the general trainer.
The order of operations is the general trainer's (module ``trainer``); the random streams differ
(float32 noise), so runs agree with it in distribution, not bit for bit
(tests/core/test_training_fused.py). A non-finite walker hands the run over to the general
trainer's step, which drops such walkers.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ebm_explorer.core.errors import NumericalError
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.samplers import SamplerState
from ebm_explorer.core.training import jarzynski as jz
from ebm_explorer.core.training.models import MixtureEnergy, TrainableEnergy
from ebm_explorer.core.training.resampling import resample_indices
from ebm_explorer.core.training.trainer import TrainHistory, Trainer, TrainMetrics

__all__ = ["FusedMixtureTrainer", "fused_support"]

FUSED_METHODS = ("cd", "pcd", "jarzynski")


def fused_support(model: TrainableEnergy, settings: TrainSettings) -> str | None:
    """None when :class:`FusedMixtureTrainer` runs this configuration, else the reason it does not."""
    if not isinstance(model, MixtureEnergy):
        return "the model is not a Gaussian mixture"
    if settings.method not in FUSED_METHODS:
        return f"method {settings.method} has no fused step"
    if settings.kernel != "ula":
        return f"kernel {settings.kernel} has no fused step (ULA only)"
    if settings.optimizer != "sgd":
        return f"optimizer {settings.optimizer} has no fused step (SGD only)"
    return None


class _Population:
    """Weighted walkers in columns ``[lo, hi)`` of the buffer: log weights, genealogy, log Z reference."""

    def __init__(self, lo: int, hi: int, log_z_ref: float, generator: torch.Generator, dev: torch.device) -> None:
        self.lo, self.hi, self.n = lo, hi, hi - lo
        self.log_z_ref = log_z_ref
        self.generator = generator
        self.ancestors = torch.arange(self.n, device=dev)
        self.resample_count = 0
        self.ess = 1.0  # ESS / N of the current weights (the next iteration's "before" value)
        self.w = torch.full((self.n,), 1.0 / self.n, dtype=torch.float64, device=dev)
        self.log_mean = torch.zeros((), dtype=torch.float64, device=dev)  # log mean e^A


class FusedMixtureTrainer(Trainer):
    """A :class:`Trainer` whose iterations run fused (see the module docstring); same constructor.

    :meth:`step` returns full :class:`TrainMetrics` like the general trainer; :meth:`run` and
    :meth:`advance` skip the per-iteration metrics (``run`` records the histories' cheap columns every
    iteration and the exact grid diagnostics every ``diagnostics_every`` iterations and at the end).
    """

    def __init__(self, model: TrainableEnergy, data: torch.Tensor, settings: TrainSettings, *args: Any,
                 **kwargs: Any) -> None:
        reason = fused_support(model, settings)
        if reason is not None:
            raise ValueError(f"no fused training step: {reason}")
        super().__init__(model, data, settings, *args, **kwargs)
        self._build_buffers()

    # --- set-up ------------------------------------------------------------------------------------
    # The fused step updates the parameters itself (plain SGD keeps no state), so the torch optimiser is
    # built only when something asks for it (state_dict, a hand-over): building one imports
    # torch._dynamo, seconds of a short command's start-up.
    _opt: torch.optim.Optimizer | None = None

    @property  # type: ignore[override]
    def optimizer(self) -> torch.optim.Optimizer:
        if self._opt is None:
            self._opt = Trainer._build_optimizer(self)
        return self._opt

    @optimizer.setter
    def optimizer(self, value: torch.optim.Optimizer | None) -> None:
        self._opt = value

    def _build_optimizer(self) -> None:  # type: ignore[override]
        self._group_lrs()  # validates the group names now, as the general trainer does
        return None

    def _build_buffers(self) -> None:
        cfg, dev = self.config, self.device
        model: MixtureEnergy = self.model  # type: ignore[assignment]
        n, n_data = self.walkers.shape[0], self.data.shape[0]
        held = self.held_out
        h_n = 0 if held is None else held.state.position.shape[0]
        self._n, self._h, self._nd = n, h_n, n_data
        self._nw = n + h_n  # walker columns (training, then held-out)
        self._make_buffer([self.walkers] + ([held.state.position] if held is not None else []))
        self._pops = [_Population(0, n, self.log_z_ref, self.generator, dev)]
        if held is not None:
            self._pops.append(_Population(n, self._nw, held.log_z_ref, held.generator, dev))
            self.held_out = None  # its walkers now live in the buffer
        self._log_w = torch.zeros(self._nw, dtype=torch.float64, device=dev)
        self._log_w[:n] = self.log_weights
        self._pops[0].ancestors = self.ancestors
        if cfg.method == "jarzynski":
            self._weigh(self._pops[0])
        lrs = self._group_lrs()
        self._lr_a = lrs["means"]
        self._lr_s = lrs.get("widths", 0.0)
        self._lr_z = lrs["z"]
        self._learn_widths = model.learn_widths
        self._h_step = float(cfg.step_size)
        self._noise_scale = math.sqrt(2.0 * cfg.step_size)
        self._fused = True  # False once a non-finite walker handed the run to the general step
        self._read_params()
        self._coef_version = -1
        self._eval(self._buf.shape[1], self._buf.shape[1])
        self._sync_state()

    def _make_buffer(self, walkers: list[torch.Tensor]) -> None:
        """The ``(4, L)`` rows ``(x, y, 1, |x|^2)`` of the walker blocks then the data; ``v``; the noise."""
        n, nw, nd = self._n, self._nw, self._nd
        buf = torch.empty((4, nw + nd), dtype=self.dtype, device=self.device)
        buf[2] = 1.0
        lo = 0
        for block in walkers:
            buf[:2, lo:lo + block.shape[0]] = block.T
            lo += block.shape[0]
        buf[:2, nw:] = self.data.T
        self._buf = buf
        self._square_norms(0, nw + nd)
        self._v = torch.zeros(nw + nd, dtype=self.dtype, device=self.device)  # -w on walkers, 1/n on data
        self._v[:n] = -1.0 / n  # CD / PCD: uniform walker weights (Jarzynski writes its own each iteration)
        self._v[nw:] = 1.0 / nd
        self._noise = torch.empty((2, nw), dtype=torch.float32, device=self.device)

    def _square_norms(self, lo: int, hi: int) -> None:
        x = self._buf[:2, lo:hi]
        torch.addcmul(x[0] * x[0], x[1], x[1], out=self._buf[3, lo:hi])

    def _read_params(self) -> None:
        """Copy the model's parameters to the numpy arrays the iterations update (float64)."""
        m: MixtureEnergy = self.model  # type: ignore[assignment]
        self._a = m.means.detach().cpu().double().numpy().copy()
        self._z = m.z.detach().cpu().double().numpy().copy()
        self._ls = m.log_widths.detach().cpu().double().numpy().copy()
        self._z_mask = m.z_grad_mask.detach().cpu().double().numpy().copy()
        self._params_dirty = False

    def _write_params(self) -> None:
        """The numpy parameters back into the model, where others read them (metrics, views, saving)."""
        if not self._params_dirty:
            return
        m: MixtureEnergy = self.model  # type: ignore[assignment]
        with torch.no_grad():
            m.means.copy_(torch.from_numpy(self._a))
            m.z.copy_(torch.from_numpy(self._z))
            if self._learn_widths:
                m.log_widths.copy_(torch.from_numpy(self._ls))
        self._params_dirty = False

    def _coefficients(self) -> None:
        """From the current parameters: ``C (M, 4)`` with logits ``C @ [x, y, 1, |x|^2]``, ``K (3, M)``
        with the gradient terms ``sum_j r_j / s_j^2 (a_j, 1)``, and ``1 / s^2``. The parameter side is
        a handful of numbers: numpy does it at a fraction of torch's per-call cost."""
        a, z = self._a, self._z
        iv = np.exp(-2.0 * self._ls)
        ia = a * iv[:, None]
        c = np.empty((a.shape[0], 4))
        c[:, :2] = ia
        c[:, 2] = -0.5 * (ia * a).sum(1) - z
        c[:, 3] = -0.5 * iv
        k = np.concatenate([ia.T, iv[None]], axis=0)
        as_t = lambda v: torch.as_tensor(v, dtype=self.dtype, device=self.device)  # noqa: E731
        self._c, self._k, self._dc = as_t(c), as_t(k), as_t(c[0] - c[-1])
        self._iv = iv
        self._coef_version = self._version

    def _eval(self, upto: int, energies: int) -> None:
        """Responsibilities ``R`` of columns ``[0, upto)``, the walkers' gradient ``G``, and the
        energies ``E`` of columns ``[0, energies)``; the others' come from :meth:`_energies` on demand."""
        if self._coef_version != self._version:
            self._coefficients()
        if self._c.shape[0] == 2:  # two components: r_1 = sigmoid(l_1 - l_2), one product and one
            # transcendental per column; the logits themselves only where energies are asked for
            d = torch.mv(self._buf[:, :upto].T, self._dc)
            r = torch.empty((2, upto), dtype=d.dtype, device=d.device)
            torch.sigmoid(d, out=r[0])
            torch.sub(1.0, r[0], out=r[1])
            self._r = r
            self._lse_parts = (d, r)
        else:
            logits = torch.mm(self._c, self._buf[:, :upto])  # (M, L)
            mx = logits.amax(0)
            logits.sub_(mx).exp_()
            s = logits.sum(0)
            self._r = logits.div_(s)
            self._lse_parts = (s, mx)
        self._e = self._log_normaliser(0, energies).neg_()
        nw = min(self._nw, upto)
        t = torch.mm(self._k, self._r[:, :nw])  # (3, nw): sum_j r_j a_j / s_j^2, sum_j r_j / s_j^2
        self._g = self._buf[:2, :nw] * t[2] - t[:2]

    def _log_normaliser(self, lo: int, hi: int) -> torch.Tensor:
        """``log sum_j e^{l_j}`` of columns ``[lo, hi)`` of the last evaluation (``-U`` there)."""
        a, b = self._lse_parts
        if b is self._r:  # two components: lse = l_2 + max(d, 0) - log max(r_1, r_2), with d = l_1 - l_2
            l2 = torch.mv(self._buf[:, lo:hi].T, self._c[1])
            r = b[:, lo:hi]
            return l2.add_(a[lo:hi].clamp(min=0.0)).sub_(torch.log(torch.maximum(r[0], r[1])))
        return torch.log(a[lo:hi]).add_(b[lo:hi])

    def _energies(self) -> torch.Tensor:
        """``U`` of every column of the last evaluation (the log of the columns not yet taken)."""
        k, length = self._e.shape[0], self._r.shape[1]
        if k < length:
            self._e = torch.cat([self._e, self._log_normaliser(k, length).neg_()])
        return self._e

    def _sync_state(self) -> None:
        """Expose the training walkers as the general trainer's ``state`` (views, no copies) and the
        parameters in the model."""
        self._write_params()
        n = self._n
        e = self._e if self._e.shape[0] >= n else self._energies()
        self.state = SamplerState(self._buf[:2, :n].T, e[:n], self._g[:, :n].T)
        self.log_weights = self._log_w[:n]
        self.ancestors = self._pops[0].ancestors
        self.resample_count = self._pops[0].resample_count
        self.log_z_ref = self._pops[0].log_z_ref

    # --- one iteration -----------------------------------------------------------------------------
    def _gradient(self) -> list[np.ndarray]:
        """Cross-entropy gradient per trainable parameter from the current ``R`` (all columns)."""
        v = self._v
        if self.config.method == "jarzynski":
            torch.neg(self._pops[0].w, out=v[:self._n])
        self._s = torch.mm(self._r * v, self._buf.T)  # (M, 4): sums of v r (x, y, 1, |x|^2)
        s = self._s.cpu().double().numpy()
        a, iv = self._a, self._iv
        sx, s1 = s[:, :2], s[:, 2]
        out = [iv[:, None] * (a * s1[:, None] - sx)]
        if self._learn_widths:
            out.append(-iv * (s[:, 3] - 2.0 * (a * sx).sum(1) + (a * a).sum(1) * s1))
        out.append(s1 * self._z_mask)
        return out

    def _apply(self, grads: list[np.ndarray]) -> None:
        self._a -= self._lr_a * grads[0]
        if self._learn_widths:
            self._ls -= self._lr_s * grads[1]
        self._z -= self._lr_z * grads[-1]
        self._params_dirty = True
        self._version += 1

    def _draw_noise(self) -> torch.Tensor:
        noise = self._noise
        for p in self._pops:
            torch.randn((2, p.n), generator=p.generator, dtype=torch.float32, device=self.device,
                        out=noise[:, p.lo:p.hi])
        return noise

    def _move(self, cols: int) -> torch.Tensor:
        """ULA step of walker columns ``[0, cols)`` with the current ``G``; returns the displacement."""
        delta = torch.mul(self._g[:, :cols], -self._h_step).add_(self._draw_noise()[:, :cols],
                                                                 alpha=self._noise_scale)
        self._buf[:2, :cols].add_(delta)
        self._square_norms(0, cols)
        return delta

    def _iterate(self) -> tuple[bool, list[torch.Tensor]]:
        """One iteration; returns (resampled, the gradient). The caller checks finiteness."""
        if self.config.method == "cd":
            return False, self._iterate_cd()
        nw, h = self._nw, self._h_step
        grads = self._gradient()
        jarz = self.config.method == "jarzynski"
        g_old, e_old = self._g, self._e[:nw]  # under theta_k, before the evaluation replaces them
        delta = self._move(nw)
        self._apply(grads)
        self._eval(self._buf.shape[1], nw if jarz else 0)
        resampled = False
        if jarz:
            # alpha(X, X'; theta_k) - alpha(X', X; theta_{k+1}), alpha(x, y) = U(x) + (y - x).G(x) / 2 + h |G(x)|^2 / 4:
            # U - U' + (G + G').(delta / 2 + h (G - G') / 4), with delta = X' - X
            g = self._g
            t = torch.sub(g_old, g).mul_(0.25 * h).add_(delta, alpha=0.5)
            self._log_w.add_(torch.add(g_old, g).mul_(t).sum(0).add_(e_old).sub_(self._e[:nw]))
            for p in self._pops:
                ess_before = p.ess
                self._weigh(p)
                if ess_before < self.config.resample_threshold:
                    self._resample_population(p)
                    resampled = resampled or p is self._pops[0]
        self.iteration += 1
        return resampled, grads

    def _iterate_cd(self) -> list[torch.Tensor]:
        cfg, n = self.config, self._n
        if self.iteration % cfg.cd_reset == 0:
            idx = torch.randint(self._nd, (n,), generator=self.generator, device=self.device)
            self._buf[:, :n] = self._buf[:, self._nw:][:, idx]
        self._eval(n, 0)  # reset walkers, or the last iteration's walkers under the new parameters
        for k in range(cfg.cd_steps):
            self._move(n)
            self._eval(self._buf.shape[1] if k == cfg.cd_steps - 1 else n, 0)
        grads = self._gradient()
        self._apply(grads)
        self.iteration += 1
        return grads

    def _weigh(self, p: _Population) -> None:
        """Normalised weights, log mean weight and ESS / N of population ``p`` (one exp per walker)."""
        lw = self._log_w[p.lo:p.hi]
        mx = lw.max()
        e = torch.exp(lw - mx)
        total = e.sum()
        p.log_mean = torch.log(total).add_(mx - math.log(p.n))
        p.w = e.div_(total)
        p.ess = 1.0 / (p.n * float(torch.dot(p.w, p.w)))

    def _resample_population(self, p: _Population) -> None:
        lw = self._log_w[p.lo:p.hi]
        p.log_z_ref = p.log_z_ref + float(p.log_mean)
        idx = resample_indices(self.config.resample_scheme, lw, p.generator) + p.lo
        cols = slice(p.lo, p.hi)
        self._buf[:, cols] = self._buf[:, idx]
        self._energies()
        self._e[cols] = self._e[idx]
        self._g[:, cols] = self._g[:, idx]
        self._r[:, cols] = self._r[:, idx]
        for part in self._lse_parts:
            if part is not self._r:  # two components: (logits, r)
                part[..., cols] = part[..., idx]
        p.ancestors = p.ancestors[idx - p.lo]
        lw.zero_()
        p.w = torch.full((p.n,), 1.0 / p.n, dtype=torch.float64, device=self.device)
        p.ess, p.log_mean = 1.0, torch.zeros((), dtype=torch.float64, device=self.device)
        p.resample_count += 1

    def _all_finite(self) -> bool:
        """Walkers and the gradient are finite. Jarzynski: a NaN/inf position makes its log weight and so
        the ESS just synced NaN; otherwise one reduction and one host sync. Parameters made infinite
        by a huge step show up as NaN one iteration later, and :meth:`_hand_over` then raises."""
        if self.config.method == "jarzynski":
            return all(math.isfinite(p.ess) for p in self._pops)
        return bool(torch.isfinite(self._g.sum() + self._s.sum()))

    def _fused_step(self, sync: bool = True) -> bool:
        """One fused iteration; returns ``resampled``. ``sync``: refresh ``state`` (the walkers' energies
        cost a log each, which :meth:`run` spends only on the iterations it diagnoses)."""
        resampled, grads = self._iterate()
        if sync:
            self._sync_state()
        if not self._all_finite():
            self._sync_state()
            self._hand_over(grads)
        return resampled

    def _hand_over(self, grads: list[np.ndarray]) -> None:
        """A NaN/inf appeared: raise for the parameters as the general trainer does; for walkers,
        continue with the general step, which drops them."""
        if not all(np.isfinite(g).all() for g in grads):
            raise NumericalError(f"the cross-entropy gradient is NaN/inf at iteration {self.iteration}: "
                                 "the model or the walkers diverged (reduce the learning rate or step size)")
        if not all(np.isfinite(p).all() for p in (self._a, self._z, self._ls)):
            raise NumericalError(f"model parameters became NaN/inf at iteration {self.iteration}: "
                                 "reduce the learning rate")
        self._write_params()
        self._fused = False
        self.state = self._evaluate(self.walkers.contiguous())
        self.log_weights = jz.sanitize_log_weights(self.log_weights.clone(), self._finite())
        self._data_cache = None

    # --- public API ----------------------------------------------------------------------------------
    def step(self) -> TrainMetrics:
        """One iteration and its full metrics (as :meth:`Trainer.step`)."""
        if not self._fused:
            return super().step()
        return self._finish_step(self._fused_step())

    def _finish_step(self, resampled: bool) -> TrainMetrics:
        cfg = self.config
        p0 = self._pops[0]
        jarz = cfg.method == "jarzynski"
        if self._fused and cfg.method != "cd":  # CD's last evaluation had the parameters before the step
            self._data_cache = (self._version, self._energies()[self._nw:], [])
        # log_z_ref + log mean e^A is the estimate measured before any resampling of this iteration:
        # a resampling moved that value into log_z_ref and zeroed the weights
        log_z_est = p0.log_z_ref + float(p0.log_mean) if jarz and self._fused else self.log_z_estimate()
        estimates: dict[str, float] = {}
        if jarz:
            estimates["log_z_se"] = _standard_error(self._log_w, p0)
        if len(self._pops) > 1 and self._fused:
            p1 = self._pops[1]
            estimates["log_z_est_xfit"] = p1.log_z_ref + float(p1.log_mean)
            estimates["log_z_se_xfit"] = _standard_error(self._log_w, p1)
            estimates["ess_fraction_xfit"] = p1.ess
        self.last_metrics = self._metrics(log_z_est, resampled, 1.0, self._finite(), estimates)
        for fn in self.callbacks["on_step_end"]:
            fn(self)
        return self.last_metrics

    def advance(self, iterations: int, each: Callable[[], None] | None = None) -> None:
        """As :meth:`Trainer.advance`: fused iterations, full metrics for the last one only (and for
        every one when ``on_step_end`` callbacks are registered)."""
        for k in range(iterations):
            if not self._fused or self.callbacks["on_step_end"]:
                self.step()
            else:
                resampled = self._fused_step(sync=each is not None or k == iterations - 1)
                if k == iterations - 1 and self._fused:
                    self._finish_step(resampled)
                elif not self._fused:  # handed over during this iteration: its metrics as the general step's
                    self._finish_step(resampled)
            if each is not None:
                each()

    def run(self, iterations: int,
            should_stop: Callable[[], bool] | None = None) -> tuple[dict[str, np.ndarray], float]:
        """As :meth:`Trainer.run`, with the exact grid diagnostics and the genealogy standard error every
        ``diagnostics_every`` iterations and at the last one (NaN between); every other column every
        iteration."""
        if self.callbacks["on_step_end"]:  # watchers want every iteration's metrics: the general loop
            return super().run(iterations, should_stop)
        rec = _Recorder(self)
        start = time.perf_counter()
        for k in range(iterations):
            if should_stop is not None and should_stop():
                break
            if not self._fused:
                super().step()
                rec.add_metrics(self.last_metrics)
                continue
            exact = (self.iteration + 1) % self.diagnostics_every == 0 or k == iterations - 1
            resampled = self._fused_step(sync=exact)
            rec.add(resampled, exact)
        if self._fused:
            self._sync_state()
        arrays, rows = rec.arrays()
        if rows:
            self.last_metrics = rows[-1]
        return arrays, time.perf_counter() - start

    @property
    def cross_fit_resamplings(self) -> int | None:
        if not self._fused:
            return super().cross_fit_resamplings
        return self._pops[1].resample_count if len(self._pops) > 1 else None

    def state_dict(self) -> dict[str, Any]:
        self._write_params()
        return super().state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """As :meth:`Trainer.load_state_dict` (the held-out walkers are dropped there too)."""
        super().load_state_dict(state)
        self.held_out = None
        n = self._n
        self._h = 0
        self._nw = n
        self._make_buffer([self.walkers])
        pop = _Population(0, n, self.log_z_ref, self.generator, self.device)
        pop.ancestors, pop.resample_count = self.ancestors, self.resample_count
        self._log_w = self.log_weights.clone()
        self._pops = [pop]
        if self.config.method == "jarzynski" and bool(torch.isfinite(self._log_w).any()):
            self._weigh(pop)
        self._fused = bool(torch.isfinite(self._log_w).all()) or self.config.method != "jarzynski"
        self._read_params()
        self._coef_version = -1
        self._eval(self._buf.shape[1], self._buf.shape[1])
        self._sync_state()


def _standard_error(log_w: torch.Tensor, p: _Population) -> float:
    """The genealogy standard error of population ``p``'s log Z estimate (after a resampling: from the
    copies each ancestor left, the weights being equal)."""
    return jz.log_z_standard_error(log_w[p.lo:p.hi], p.ancestors)


class _Recorder:
    """The history columns of :class:`TrainHistory`: per iteration only the parameters, the log mean
    weights and the ESS are kept (small tensors, no host work); the rest is derived once at the end,
    and the exact values on the diagnosed iterations."""

    def __init__(self, trainer: FusedMixtureTrainer) -> None:
        self.t = trainer
        self.rows: list[tuple] = []
        self.exact: dict[int, tuple] = {}
        self.eager: list[TrainMetrics] = []
        self.start = trainer.iteration

    def add(self, resampled: bool, exact: bool) -> None:
        t = self.t
        m: MixtureEnergy = t.model  # type: ignore[assignment]
        pops = t._pops
        self.rows.append((t._a.copy(), t._z.copy(), t._ls.copy() if t._learn_widths else None,
                          [(p.log_z_ref, p.log_mean, p.ess, p.resample_count) for p in pops], resampled))
        if exact:
            p0 = pops[0]
            e = t._energies()
            e_data = float(e[t._nw:].mean())
            e_walk = float(torch.dot(p0.w, e[:t._n]) if t.config.method == "jarzynski" else e[:t._n].mean())
            t._write_params()
            grid = t.diagnostics.evaluate(m, e_data) if t.diagnostics is not None else None
            se = [_standard_error(t._log_w, p) for p in pops]
            self.exact[len(self.rows) - 1] = (grid, se, e_data, e_walk)

    def add_metrics(self, metrics: TrainMetrics | None) -> None:
        """An iteration the general step ran (after a hand-over): its full metrics."""
        if metrics is not None:
            self.eager.append(metrics)

    def arrays(self) -> tuple[dict[str, np.ndarray], list[TrainMetrics]]:
        """The ``history_*`` arrays and the per-iteration metrics they come from."""
        t = self.t
        hist = TrainHistory()
        d = t.diagnostics
        m_modes = d.n_modes if d is not None else 0
        mw_true = d.mode_weights_true if d is not None else np.zeros(0)
        has_ref = d is not None and d.reference is not None
        jarz = t.config.method == "jarzynski"
        nan = math.nan
        log_mean = (torch.stack([torch.stack([torch.as_tensor(q[1], dtype=torch.float64) for q in r[3]])
                                 for r in self.rows]).cpu().numpy() if self.rows else np.zeros((0, 1)))
        for i, (a, z, ls, pops, resampled) in enumerate(self.rows):
            ls = t._ls if ls is None else ls
            log_mass = math.log(2.0 * math.pi) + 2.0 * ls - z
            log_z = float(np.logaddexp.reduce(log_mass))
            grid, se, e_data, e_walk = self.exact.get(i, (None, [nan, nan], nan, nan))
            est = [q[0] + float(log_mean[i, j]) for j, q in enumerate(pops)]
            xfit = len(pops) > 1
            params = {"means": a, "z": z, "masses": np.exp(log_mass - log_z)}
            if t._learn_widths:
                params["log_widths"] = ls
            if grid is not None:
                ce = grid.cross_entropy
            else:
                ce = nan if has_ref else e_data + log_z
            hist.rows.append(TrainMetrics(
                iteration=self.start + i + 1,
                kl=grid.kl if grid else nan,
                cross_entropy=ce,
                cross_entropy_est=e_data + est[0] if jarz else nan,
                log_z_exact=log_z,
                log_z_est=est[0] if jarz else nan,
                fisher=grid.fisher if grid else nan,
                mode_weights=grid.mode_weights if grid else np.full(m_modes, nan),
                mode_weights_true=mw_true,
                ess_fraction=pops[0][2] if jarz else 1.0,
                resampled=resampled,
                resample_count=pops[0][3],
                energy_gap=e_data - e_walk,
                data_energy=e_data,
                acceptance=1.0,
                nonfinite_walkers=0,
                params=params,
                log_z_se=se[0] if jarz else nan,
                log_z_est_xfit=est[1] if xfit else nan,
                log_z_se_xfit=se[1] if xfit else nan,
                cross_entropy_est_xfit=e_data + est[1] if xfit else nan,
                ess_fraction_xfit=pops[1][2] if xfit else nan,
            ))
        hist.rows.extend(self.eager)
        return hist.arrays(), hist.rows
