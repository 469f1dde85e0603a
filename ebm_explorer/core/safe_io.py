"""Safe readers for every file a user (or a crash) hands the program: scenes, landscapes, data, autosaves.

Each reader opens only regular files (a FIFO, a device or a directory is refused without blocking:
``O_NONBLOCK`` then ``fstat``), caps the bytes it reads before parsing, refuses TOML nested deeper
than :data:`MAX_TOML_DEPTH`, checks every NPZ member's header (dtype, shape, total bytes) before a
byte of data is allocated, and turns every failure into one :class:`UserInputError` line that names
the file and the problem. Nothing here imports Qt.
"""

from __future__ import annotations

import csv
import io
import os
import stat
import tomllib
import zipfile
import zlib
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from ebm_explorer.core.errors import UserInputError

__all__ = ["files_read", "forget_files_read", "MAX_TOML_DEPTH", "MAX_TEXT_BYTES", "MAX_NPZ_BYTES", "read_regular_bytes", "read_text",
           "load_toml", "toml_depth", "npz_headers", "load_npz", "csv_rows", "printable"]

#: deepest nesting of arrays / tables a TOML file may have (a scene needs 5: runs, a table, a list...)
MAX_TOML_DEPTH = 16
#: text files (scenes, landscapes, CSV) bigger than this are refused before reading (a 512^2 grid is ~3 MB)
MAX_TEXT_BYTES = 64 * 1024 * 1024
#: total uncompressed bytes of the arrays of one NPZ file (headers are checked before loading)
MAX_NPZ_BYTES = 2 * 1024 ** 3
_KINDS = "biuf"  # bool, signed, unsigned, float: the only array kinds a reader accepts unless told
#: (device, inode) -> path of every file opened by this process's readers: outputs must not replace them
_FILES_READ: dict[tuple[int, int], Path] = {}


def files_read() -> dict[tuple[int, int], Path]:
    """Every file the readers opened since :func:`forget_files_read` (keyed by device and inode)."""
    return dict(_FILES_READ)


def forget_files_read() -> None:
    _FILES_READ.clear()


def printable(text: object, limit: int = 200) -> str:
    """``text`` safe for a terminal or a label: control characters escaped, length capped."""
    s = str(text)
    out = "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in s[:limit])
    return out + ("…" if len(s) > limit else "")


def _kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _open_regular(path: Path, what: str, max_bytes: int) -> tuple[int, int]:
    """An fd of the regular file ``path`` and its size; refuses anything else without blocking."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UserInputError(f"{printable(path)}: {what} not found (no such file)") from None
    except IsADirectoryError:
        raise UserInputError(f"{printable(path)}: is a directory, not a {what}") from None
    except OSError as exc:
        raise UserInputError(f"{printable(path)}: cannot open {what}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UserInputError(f"{printable(path)}: is {_kind_of(st.st_mode)}, not a {what}")
        _FILES_READ[(st.st_dev, st.st_ino)] = path.resolve()
        if st.st_size > max_bytes:
            raise UserInputError(f"{printable(path)}: {what} too large ({st.st_size:,} bytes; "
                                 f"the limit is {max_bytes:,})")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def read_regular_bytes(path: str | os.PathLike[str], what: str = "file", max_bytes: int = MAX_TEXT_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (at most ``max_bytes``; a file growing past it is refused)."""
    p = Path(path)
    fd, _size = _open_regular(p, what, max_bytes)
    try:
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > max_bytes:
                raise UserInputError(f"{printable(p)}: {what} too large (over {max_bytes:,} bytes)")
            chunks.append(chunk)
    except OSError as exc:
        raise UserInputError(f"{printable(p)}: cannot read {what}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: str | os.PathLike[str], what: str = "file", max_bytes: int = MAX_TEXT_BYTES,
              encoding: str = "utf-8") -> str:
    """Bounded UTF-8 text of a regular file; a binary file is a clear error."""
    raw = read_regular_bytes(path, what, max_bytes)
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise UserInputError(f"{printable(path)}: not a text (UTF-8) file: corrupt {what}?") from None


def toml_depth(text: str) -> int:
    """The deepest nesting of ``[``/``{`` in TOML ``text`` outside strings and comments (no recursion)."""
    depth = best = 0
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "\"'":
            triple = text.startswith(c * 3, i)
            quote = c * 3 if triple else c
            j = i + len(quote)
            while j < n:
                if c == '"' and text[j] == "\\":
                    j += 2
                    continue
                if text.startswith(quote, j):
                    break
                if not triple and text[j] == "\n":
                    break
                j += 1
            i = j + len(quote)
            continue
        if c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth = max(0, depth - 1)
        elif c == "\n":
            # a table header [[a.b]] closes on its own line; array values may span lines, so keep depth
            pass
        i += 1
    return best


def _data_depth(data: Any) -> int:
    """Nesting depth of parsed TOML (dotted keys nest too), computed with an explicit stack."""
    best, stack = 0, [(data, 1)]
    while stack:
        obj, d = stack.pop()
        best = max(best, d)
        if d > MAX_TOML_DEPTH + 1:
            return d
        if isinstance(obj, dict):
            stack.extend((v, d + 1) for v in obj.values())
        elif isinstance(obj, list):
            stack.extend((v, d + 1) for v in obj)
    return best


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """``tomllib.loads`` with the nesting limit; every failure names ``source``."""
    if toml_depth(text) > MAX_TOML_DEPTH:
        raise UserInputError(f"{printable(source)}: nested deeper than {MAX_TOML_DEPTH} levels: "
                             f"not a scene or landscape file")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UserInputError(f"{printable(source)}: not a valid TOML file (corrupt or truncated?): "
                             f"{printable(exc)}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise UserInputError(f"{printable(source)}: cannot parse TOML ({type(exc).__name__})") from None
    if _data_depth(data) > MAX_TOML_DEPTH + 1:
        raise UserInputError(f"{printable(source)}: keys nested deeper than {MAX_TOML_DEPTH} levels")
    return data


def load_toml(path: str | os.PathLike[str], what: str = "TOML file", max_bytes: int = MAX_TEXT_BYTES) -> dict[str, Any]:
    """A bounded, depth-checked TOML file as a dict."""
    return parse_toml(read_text(path, what, max_bytes), str(path))


def _member_headers(zf: zipfile.ZipFile, p: Path, what: str) -> Iterator[tuple[str, np.dtype, tuple[int, ...], int]]:
    for info in zf.infolist():
        if not info.filename.endswith(".npy"):
            continue
        name = info.filename[:-4]
        try:
            with zf.open(info) as fh:
                version = np.lib.format.read_magic(fh)
                if version == (1, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_1_0(fh)
                elif version == (2, 0):
                    shape, _fortran, dtype = np.lib.format.read_array_header_2_0(fh)
                else:
                    raise ValueError(f"npy version {version}")
        except (ValueError, OSError, EOFError, zlib.error, zipfile.BadZipFile, RuntimeError,
                NotImplementedError, SyntaxError, TypeError) as exc:
            raise UserInputError(f"{printable(p)}: array {printable(name)!r} has a damaged header "
                                 f"({printable(exc, 80)}): corrupt {what}?") from None
        count = 1
        for s in shape:
            count *= int(s)
        yield name, dtype, tuple(int(s) for s in shape), count * dtype.itemsize


def npz_headers(path: str | os.PathLike[str], what: str = "NPZ file", max_bytes: int = MAX_NPZ_BYTES,
                kinds: str = _KINDS + "US") -> dict[str, tuple[np.dtype, tuple[int, ...]]]:
    """Every array's dtype and shape read from the headers alone, checked against ``kinds`` and
    ``max_bytes`` (the total): a forged shape is refused before anything is allocated."""
    p = Path(path)
    fd, _size = _open_regular(p, what, max_bytes)
    out: dict[str, tuple[np.dtype, tuple[int, ...]]] = {}
    with os.fdopen(fd, "rb") as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise UserInputError(f"{printable(p)}: not a readable .npz file (corrupt or truncated, or not an "
                                 f"NPZ archive at all: {printable(exc, 80)})") from None
        with zf:
            total = 0
            for name, dtype, shape, nbytes in _member_headers(zf, p, what):
                if dtype.hasobject or dtype.kind not in kinds or dtype.fields is not None:
                    raise UserInputError(f"{printable(p)}: array {printable(name)!r} has unsupported dtype {dtype}")
                total += nbytes
                if total > max_bytes:
                    raise UserInputError(f"{printable(p)}: arrays would need {total:,} bytes (shape {shape} "
                                         f"for {printable(name)!r}); the limit is {max_bytes:,}")
                out[name] = (dtype, shape)
    return out


def load_npz(path: str | os.PathLike[str], what: str = "NPZ file", max_bytes: int = MAX_NPZ_BYTES,
             kinds: str = _KINDS + "US") -> dict[str, np.ndarray]:
    """Every array of an NPZ file after :func:`npz_headers` passed; damage anywhere is one clear line."""
    p = Path(path)
    npz_headers(p, what, max_bytes, kinds)
    fd, _size = _open_regular(p, what, max_bytes)
    with os.fdopen(fd, "rb") as fh:
        try:
            with np.load(fh, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (OSError, ValueError, EOFError, zlib.error, zipfile.BadZipFile, KeyError, RuntimeError,
                NotImplementedError, TypeError, AttributeError) as exc:
            raise UserInputError(f"{printable(p)}: damaged data ({type(exc).__name__}: {printable(exc, 80)}): "
                                 f"corrupt or truncated {what}?") from None
        except MemoryError:
            raise UserInputError(f"{printable(p)}: not enough memory to read this {what}") from None


def csv_rows(path: str | os.PathLike[str], what: str = "CSV file", max_bytes: int = MAX_TEXT_BYTES,
             max_field: int = 1024) -> Iterator[tuple[int, list[str]]]:
    """``(line number, cells)`` of a bounded CSV file; a field longer than ``max_field`` is refused."""
    text = read_text(path, what, max_bytes, encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UserInputError(f"{printable(path)}:{reader.line_num}: not a CSV line ({printable(exc, 80)})") from None
        for cell in row:
            if len(cell) > max_field:
                raise UserInputError(f"{printable(path)}:{reader.line_num}: a field of {len(cell):,} characters "
                                     f"(the limit is {max_field:,})")
        yield reader.line_num, row
