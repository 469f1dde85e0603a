"""The Train button's default run (Jarzynski, the app's default landscape) converges: checked with the exact KL."""

from __future__ import annotations

import torch

from ebm_explorer.core.landscapes import make_landscape
from ebm_explorer.core.run_settings import TrainSettings
from ebm_explorer.core.training.recipe import build_trainer


def test_default_jarzynski_run_reaches_a_small_exact_kl_in_800_iterations():
    torch.set_num_threads(1)
    settings = TrainSettings()
    assert settings.method == "jarzynski"
    trainer = build_trainer(settings, make_landscape("gmm"), diagnostics_every=400)
    kls = []
    for it in range(1, 801):
        m = trainer.step()
        if it % 400 == 0:
            kls.append(m.kl)
    # KL of the initial k-means++ mixture is ~0.5; a run that stalls (the reported 1.6 at 800) fails here
    assert kls[-1] < 0.03, kls
    assert kls[-1] <= kls[0]
