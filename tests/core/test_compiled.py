"""The fused (``torch.compile``) sampler steps against the eager ones.

A compiled step draws the same noise from the same generator, so from one seed the two paths must
give the same walkers up to float rounding; the distribution checks run on both paths in
``test_sampler_stats.py``. If compiling fails, the run must go on eagerly with the same noise.
"""

from __future__ import annotations

import pytest
import torch

from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.core.samplers import SAMPLERS, SamplerParams, compiled_sampler, initial_positions, run_chain
from ebm_explorer.core.samplers.compiled import CompiledStep

PARAMS = {"mh": SamplerParams(step_size=0.5), "ula": SamplerParams(step_size=0.02),
          "mala": SamplerParams(step_size=0.02), "hmc": SamplerParams(step_size=0.1, leapfrog_steps=4)}


@pytest.mark.parametrize("name", list(SAMPLERS))
def test_compiled_run_equals_eager_run(name):
    land = make_landscape("eight_gaussians")
    runs = []
    for compile in (False, True):
        gen = torch.Generator().manual_seed(3)
        x0 = initial_positions("gaussian", 3000, land.box, gen, torch.device("cpu"), torch.float64)
        runs.append(run_chain(SAMPLERS[name], land, x0, PARAMS[name], 15, gen, compile=compile))
    eager, fused = runs
    assert fused.compile_fallback is None
    torch.testing.assert_close(fused.state.position, eager.state.position, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(fused.state.grad, eager.state.grad, rtol=1e-9, atol=1e-9)
    assert (fused.acceptance == eager.acceptance).all()
    assert not (eager.state.position == x0).all()  # the walkers moved: the comparison is not vacuous


def test_failed_compile_falls_back_with_the_same_noise():
    land = make_landscape("double_well")
    params = SamplerParams(step_size=0.05)

    def broken(generator, state, energy_fn, p):
        torch.randn(7, generator=generator)  # a draw before the failure must not shift the noise
        raise RuntimeError("no C++ compiler found\nlong traceback")

    step = CompiledStep(SAMPLERS["mala"].step)
    step.compiled = broken
    sampler = SAMPLERS["mala"]._replace(step=step)
    out = []
    for s in (sampler, SAMPLERS["mala"]):
        gen = torch.Generator().manual_seed(1)
        x0 = initial_positions("uniform", 500, land.box, gen, torch.device("cpu"), torch.float64)
        out.append(run_chain(s, land, x0, params, 5, gen))
    assert step.fallback_reason == "RuntimeError: no C++ compiler found"
    assert out[0].compile_fallback == step.fallback_reason
    torch.testing.assert_close(out[0].state.position, out[1].state.position, rtol=0, atol=0)


def test_compiled_sampler_is_built_once_per_sampler():
    a = compiled_sampler(SAMPLERS["ula"])
    assert compiled_sampler(SAMPLERS["ula"]) is a
    assert isinstance(a.step, CompiledStep) and a.init is SAMPLERS["ula"].init
