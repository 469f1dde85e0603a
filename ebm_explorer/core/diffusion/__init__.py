"""Score-based generation against the truth: noising paths with exact noised densities (``paths``) and
reverse SDE / probability-flow ODE / annealed Langevin generators with Jarzynski weights (``generate``)."""
