"""EBM Explorer: see how energy-based models and their samplers behave in 2D.

Importing the package never imports Qt: the numerics in :mod:`ebm_explorer.core`
are usable from plain Python and the command line.
"""

__version__ = "0.1.0"
