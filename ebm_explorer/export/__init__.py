"""Export (no Qt): trajectories and metrics to NPZ/CSV (streamed, cancellable, atomic), matplotlib
figures to PNG/SVG, and GIF/MP4 recording from RGB frames.

``export_trajectories(data, npz_path=..., csv_path=..., progress=..., cancel=...)``,
``Recorder(gif_path, mp4_path, fps).add_frame(rgb) ... .finish()``, ``save_figure(fig, path, dpi)``.
"""

from ebm_explorer.export.recorder import Recorder
from ebm_explorer.export.streaming import ExportCancelled, atomic_outputs, check_cancel
from ebm_explorer.export.trajectories import TRAJECTORY_COLUMNS, TrajectoryData, export_trajectories, read_trajectory_csv

__all__ = [
    "Recorder",
    "ExportCancelled",
    "atomic_outputs",
    "check_cancel",
    "TRAJECTORY_COLUMNS",
    "TrajectoryData",
    "export_trajectories",
    "read_trajectory_csv",
]
