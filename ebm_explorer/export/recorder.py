"""Record RGB frames into an animated GIF and/or an MP4, atomically (no Qt).

The GUI grabs a view (or the window) as an ``(H, W, 3)`` uint8 array at each drawn frame and hands
it to :meth:`Recorder.add_frame`; the headless runner does the same with matplotlib frames. Frames
are encoded as they come: MP4 through imageio-ffmpeg's streaming writer (H.264, yuv420p), GIF
through Pillow with each frame reduced to a 256-colour palette on arrival (a third of the memory of
RGB). Both go to temporary files next to their targets; :meth:`Recorder.finish` renames them into
place, :meth:`Recorder.abort` (or an exception inside ``with Recorder(...)``) deletes them.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from types import TracebackType

import numpy as np

from ebm_explorer.core.atomic import finish_temp, temp_path_next_to
from ebm_explorer.core.errors import UserInputError
from ebm_explorer.export.streaming import CancelToken, check_cancel

__all__ = ["Recorder"]


class Recorder:
    """Accepts RGB frames one at a time and finalises atomically into a GIF and/or an MP4.

    All frames take the size of the first one (later frames are cropped or padded with black), so a
    window resized mid-recording does not break the file. MP4 needs even sizes: frames are padded by
    one black pixel row/column where needed. ``cancel`` (an Event or callable) is checked at every
    frame; when it fires, ``add_frame`` aborts the recording and raises ``ExportCancelled``.
    Pillow merges consecutive *identical* frames of a GIF into one longer frame, so the GIF's frame
    count equals the MP4's only when consecutive frames differ.
    """

    def __init__(
        self,
        gif_path: str | os.PathLike[str] | None = None,
        mp4_path: str | os.PathLike[str] | None = None,
        fps: float = 20.0,
        cancel: CancelToken = None,
    ) -> None:
        if gif_path is None and mp4_path is None:
            raise UserInputError("recording needs a GIF and/or an MP4 path")
        if not (isinstance(fps, (int, float)) and 1 <= fps <= 120):
            raise UserInputError(f"frames per second must be in [1, 120], got {fps!r}")
        self.gif_path = None if gif_path is None else Path(gif_path)
        self.mp4_path = None if mp4_path is None else Path(mp4_path)
        for p, ext in ((self.gif_path, ".gif"), (self.mp4_path, ".mp4")):
            if p is not None and p.suffix.lower() != ext:
                raise UserInputError(f"{p}: must end in {ext}")
        self.fps = float(fps)
        self._cancel = cancel
        self._size: tuple[int, int] | None = None  # (H, W) of the first frame
        self._gif_frames: list = []
        self._mp4_writer = None
        self._temps: list[Path] = []
        self.frames_added = 0
        self._closed = False

    # ---------------------------------------------------------------------------------------------
    def _fit(self, frame: np.ndarray) -> np.ndarray:
        arr = np.asarray(frame)
        if arr.ndim == 3 and arr.shape[2] == 4:
            arr = arr[:, :, :3]
        if arr.ndim != 3 or arr.shape[2] != 3 or arr.shape[0] < 2 or arr.shape[1] < 2:
            raise UserInputError(f"a frame must be an (H, W, 3) RGB array, got shape {arr.shape}")
        if arr.dtype != np.uint8:
            if arr.dtype.kind == "f":
                arr = np.clip(np.nan_to_num(arr) * 255.0 + 0.5, 0, 255)
            arr = arr.astype(np.uint8)
        if self._size is None:
            self._size = (arr.shape[0] + arr.shape[0] % 2, arr.shape[1] + arr.shape[1] % 2)
        h, w = self._size
        out = np.zeros((h, w, 3), dtype=np.uint8)
        hh, ww = min(h, arr.shape[0]), min(w, arr.shape[1])
        out[:hh, :ww] = arr[:hh, :ww]
        return out

    def _start(self) -> None:
        import imageio_ffmpeg

        h, w = self._size  # type: ignore[misc]
        if self.gif_path is not None:
            self._temps.append(temp_path_next_to(self.gif_path))
        if self.mp4_path is not None:
            tmp = temp_path_next_to(self.mp4_path)
            self._temps.append(tmp)
            self._mp4_writer = imageio_ffmpeg.write_frames(
                str(tmp), (w, h), fps=self.fps, codec="libx264", pix_fmt_in="rgb24", pix_fmt_out="yuv420p",
                macro_block_size=2, quality=7, ffmpeg_log_level="error",
            )
            self._mp4_writer.send(None)

    def add_frame(self, frame: np.ndarray) -> None:
        """Append one ``(H, W, 3)`` RGB frame (uint8, or float in [0, 1]; an alpha channel is dropped)."""
        if self._closed:
            raise UserInputError("this recording is already finished")
        try:
            check_cancel(self._cancel)
            rgb = self._fit(frame)
            if self.frames_added == 0:
                self._start()
            if self._mp4_writer is not None:
                self._mp4_writer.send(np.ascontiguousarray(rgb))
            if self.gif_path is not None:
                from PIL import Image

                self._gif_frames.append(Image.fromarray(rgb).quantize(colors=256, method=Image.Quantize.MEDIANCUT))
            self.frames_added += 1
        except BaseException:
            self.abort()
            raise

    def finish(self) -> list[Path]:
        """Close the encoders and move the files onto their targets; returns the paths written."""
        if self._closed:
            raise UserInputError("this recording is already finished")
        if self.frames_added == 0:
            self.abort()
            raise UserInputError("nothing recorded: no frames were added")
        try:
            written: list[Path] = []
            if self.gif_path is not None:
                first, *rest = self._gif_frames
                first.save(self._temps[0], format="GIF", save_all=True, append_images=rest,
                           duration=int(round(1000.0 / self.fps)), loop=0, disposal=1)
                written.append(self.gif_path)
            if self.mp4_path is not None:
                self._mp4_writer.close()  # type: ignore[union-attr]
                self._mp4_writer = None
                written.append(self.mp4_path)
            for tmp, target in zip(self._temps, written):
                finish_temp(tmp, target)
            self._temps = []
            self._gif_frames = []
            self._closed = True
            return written
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop recording and delete every temporary file; no target is created."""
        if self._mp4_writer is not None:
            with contextlib.suppress(Exception):
                self._mp4_writer.close()
            self._mp4_writer = None
        for tmp in self._temps:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self._temps = []
        self._gif_frames = []
        self._closed = True

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._closed:
            self.finish()
