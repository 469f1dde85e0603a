"""Energies given as values on a regular node grid, interpolated C1 (bicubic Catmull-Rom) in torch.

This is what mouse drawing and image import produce. Node ``values[iy, ix]`` sits at
``(xs[ix], ys[iy])`` with ``xs = linspace(xmin, xmax, nx)``, ``ys = linspace(ymin, ymax, ny)``.

Inside the box the interpolant passes through every node, has continuous first derivatives, and
reproduces quadratics exactly (the slopes are central differences; ghost nodes beyond the edge are
quadratic extrapolations). Outside the box the energy is the value at the nearest box point plus a
quadratic wall ``wall_strength * dist^2`` (``dist`` = Euclidean distance to the box), so walkers
that step out are pushed back. The energy is continuous across the box edge, its gradient is not.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ebm_explorer.core.errors import UserInputError
from ebm_explorer.core.landscapes._util import SpecLandscape, as_box, as_float, box_list
from ebm_explorer.core.types import Box

MIN_NODES = 3
#: half width of the box of an imported picture (its height follows the aspect ratio)
IMAGE_HALF_WIDTH = 3.0


def default_wall_strength(box: Box) -> float:
    """A wall of 10 energy units at 10% of the box's shorter side outside it."""
    side = min(box.width, box.height)
    return 10.0 / (0.1 * side) ** 2


def _catmull_rom_weights(t: torch.Tensor) -> torch.Tensor:
    """Weights of nodes ``i-1, i, i+1, i+2`` at fraction ``t`` of cell ``[i, i+1]``: ``(N, 4)``."""
    t2 = t * t
    t3 = t2 * t
    return 0.5 * torch.stack(
        [-t3 + 2.0 * t2 - t, 3.0 * t3 - 5.0 * t2 + 2.0, -3.0 * t3 + 4.0 * t2 + t, t3 - t2], dim=1
    )


def _pad_quadratic(v: np.ndarray) -> np.ndarray:
    """Add one ghost node on each side of both axes by quadratic extrapolation."""
    def pad_axis0(a: np.ndarray) -> np.ndarray:
        lo = 3.0 * a[0] - 3.0 * a[1] + a[2]
        hi = 3.0 * a[-1] - 3.0 * a[-2] + a[-3]
        return np.concatenate([lo[None], a, hi[None]], axis=0)

    return pad_axis0(pad_axis0(v).T).T


class GridLandscape(SpecLandscape):
    """Node values ``(ny, nx)`` over ``box``, bicubic C1 interpolation, quadratic wall outside."""

    name = "grid"
    description = "Energy drawn or imported on a grid (bicubic interpolation)"

    def __init__(
        self, values: Any, box: Box | Sequence[float], wall_strength: float | None = None
    ) -> None:
        super().__init__(as_box(box))
        try:
            v = np.array(values, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise UserInputError("grid values must be a 2D array of numbers") from exc
        if v.ndim != 2 or v.shape[0] < MIN_NODES or v.shape[1] < MIN_NODES:
            raise UserInputError(f"grid values must be 2D with at least {MIN_NODES}x{MIN_NODES} nodes, got shape {v.shape}")
        if not np.all(np.isfinite(v)):
            raise UserInputError("grid values must be finite")
        self._values = v
        self.wall_strength = (
            default_wall_strength(self.box) if wall_strength is None
            else as_float(wall_strength, "wall_strength", positive=True)
        )
        self._padded = _pad_quadratic(v)
        self._cache: dict[tuple[torch.device, torch.dtype], torch.Tensor] = {}

    @property
    def values(self) -> np.ndarray:
        """A float64 copy of the node values ``(ny, nx)``."""
        return self._values.copy()

    @property
    def shape(self) -> tuple[int, int]:
        return self._values.shape  # type: ignore[return-value]

    def with_values(self, new_values: Any) -> "GridLandscape":
        """The same box and wall with other node values (e.g. after a brush stroke)."""
        return GridLandscape(new_values, self.box, self.wall_strength)

    def node_coordinates(self) -> tuple[np.ndarray, np.ndarray]:
        """``(xs (nx,), ys (ny,))`` of the nodes."""
        ny, nx = self._values.shape
        b = self.box
        return np.linspace(b.xmin, b.xmax, nx), np.linspace(b.ymin, b.ymax, ny)

    def _table(self, x: torch.Tensor) -> torch.Tensor:
        key = (x.device, x.dtype)
        if key not in self._cache:
            self._cache[key] = torch.as_tensor(self._padded, dtype=x.dtype, device=x.device)
        return self._cache[key]

    def energy(self, x: torch.Tensor) -> torch.Tensor:
        b = self.box
        ny, nx = self._values.shape
        table = self._table(x)
        px = x[:, 0].clamp(b.xmin, b.xmax)
        py = x[:, 1].clamp(b.ymin, b.ymax)
        u = (px - b.xmin) * ((nx - 1) / b.width)
        w = (py - b.ymin) * ((ny - 1) / b.height)
        # NaN positions (a diverged walker) get a safe cell index; their energy stays NaN via the weights
        ix = torch.clamp(torch.floor(torch.nan_to_num(u.detach())), 0, nx - 2).long()
        iy = torch.clamp(torch.floor(torch.nan_to_num(w.detach())), 0, ny - 2).long()
        wx = _catmull_rom_weights(u - ix.to(u.dtype))  # (N, 4)
        wy = _catmull_rom_weights(w - iy.to(w.dtype))
        # padded index of node i-1 is i; gather the 4x4 patch (N, 4, 4) as [row a, column c]
        offs = torch.arange(4, device=x.device)
        rows = (iy[:, None] + offs[None])[:, :, None]
        cols = (ix[:, None] + offs[None])[:, None, :]
        patch = table[rows, cols]
        e = torch.einsum("na,nac,nc->n", wy, patch, wx)
        ox = x[:, 0] - px
        oy = x[:, 1] - py
        return e + self.wall_strength * (ox * ox + oy * oy)

    @classmethod
    def from_image(
        cls,
        image: str | Path | np.ndarray,
        box: Box | Sequence[float] | None = None,
        energy_range: tuple[float, float] = (0.0, 10.0),
        max_size: int | None = 256,
        wall_strength: float | None = None,
    ) -> "GridLandscape":
        """A grayscale picture as an energy: black -> ``energy_range[0]``, white -> ``energy_range[1]``.

        The image's top row becomes the top of the box (largest y). Images larger than
        ``max_size`` on their longer side are downsampled (area averaging) to keep the grid light.
        An array is read as gray levels in ``[0, 1]``, or in ``[0, 255]`` when its maximum exceeds 1;
        RGB(A) arrays are converted to luminance. ``box`` None: x in [-3, 3] and y keeping the picture's
        aspect ratio. This is the app's one image-to-energy conversion (the editor's Import image uses it).
        """
        from PIL import Image  # pillow comes with matplotlib; imported lazily

        if isinstance(image, np.ndarray):
            arr = np.asarray(image, dtype=np.float64)
            if arr.ndim == 3:
                if arr.shape[2] not in (3, 4):
                    raise UserInputError(f"image array must be (H, W), (H, W, 3) or (H, W, 4), got {arr.shape}")
                arr = arr[..., :3] @ np.array([0.299, 0.587, 0.114])
            if arr.ndim != 2:
                raise UserInputError(f"image array must be 2D or RGB, got shape {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise UserInputError("image array must be finite")
            hi = arr.max()
            gray = arr / 255.0 if hi > 1.0 else arr
            pil = Image.fromarray(np.clip(gray * 255.0, 0, 255).astype(np.float32), mode="F")
        else:
            path = Path(image)
            if not path.is_file():
                raise UserInputError(f"image file not found: {path}")
            try:
                with Image.open(path) as img:
                    pil = img.convert("L").convert("F")
            except OSError as exc:
                raise UserInputError(f"cannot read image {path}: {exc}") from exc
        if max_size is not None and max(pil.size) > max_size:
            scale = max_size / max(pil.size)
            size = (max(MIN_NODES, round(pil.size[0] * scale)), max(MIN_NODES, round(pil.size[1] * scale)))
            pil = pil.resize(size, Image.Resampling.BOX)
        gray = np.asarray(pil, dtype=np.float64) / 255.0
        lo, hi = (as_float(v, "energy_range") for v in energy_range)
        values = lo + (hi - lo) * np.clip(gray, 0.0, 1.0)
        if box is None:
            h, w = values.shape
            box = Box(-IMAGE_HALF_WIDTH, IMAGE_HALF_WIDTH, -IMAGE_HALF_WIDTH * h / w, IMAGE_HALF_WIDTH * h / w)
        return cls(values[::-1].copy(), box, wall_strength)

    def _own_spec(self) -> dict[str, Any]:
        return {
            "kind": "grid",
            "box": box_list(self.box),
            "values": self._values.tolist(),
            "wall_strength": float(self.wall_strength),
        }
