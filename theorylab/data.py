"""Data sets for the checks: synthetic (unit sphere), user files (.npz/.csv), scikit-learn digits.

Every loader returns float64 CPU tensors ``X`` (n, d) and ``y`` (n,); claims move them to the
run's device and dtype. Bad files raise :class:`~theorylab.errors.UsageError` with one line,
before any large read: a ``.npz`` member's shape and dtype are read from its header (a few
hundred bytes) and its size is checked against the memory a run may use before it is inflated.
torch is imported inside the loaders, so importing this module stays light.

Example (a file's shape without reading its arrays):
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "d.npz")
    >>> np.savez_compressed(path, X=np.zeros((1000, 3)), y=np.zeros(1000))
    >>> file_shape(path)
    (1000, 3)
"""

from __future__ import annotations

import functools
import os
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .errors import UsageError
from .runtime import Context

if TYPE_CHECKING:
    import torch

# A user file may inflate to at most this fraction of the memory available when it is read
# (the same fraction a run may use: registry.MEMORY_FRACTION).
FILE_MEMORY_FRACTION = 0.5


@dataclass
class Dataset:
    X: torch.Tensor
    y: torch.Tensor
    source: str

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]


def unit_sphere(n: int, d: int, ctx: Context, stream: str = "data") -> Dataset:
    """n points uniform on the unit sphere S^{d-1}, labels y ~ N(0, 1)."""
    import torch

    gen = ctx.generator(stream)
    X = torch.randn(n, d, generator=gen, dtype=torch.float64)
    X = X / X.norm(dim=1, keepdim=True)
    y = torch.randn(n, generator=gen, dtype=torch.float64)
    return Dataset(X, y, "sphere")


def digits_images(purpose: str = "this check") -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's digits (shipped offline): pixels (1797, 64) float64 and labels 0..9.

    Read from the CSV file that scikit-learn ships, located without importing scikit-learn
    (importing it costs about as much as importing torch); the same numbers as
    ``sklearn.datasets.load_digits``, which is the fallback when the file is not found.
    """
    fast = _digits_csv()
    if fast is not None:
        import torch

        return (
            torch.as_tensor(fast[:, :-1], dtype=torch.float64),
            torch.as_tensor(fast[:, -1].astype(np.int64), dtype=torch.long),
        )
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # a dependency, but keep the message clear if it is missing
        raise UsageError(
            f"{purpose} needs scikit-learn's digits: pip install 'theorylab[data]'"
        ) from exc
    import torch

    bunch = load_digits()
    return (
        torch.as_tensor(bunch.data, dtype=torch.float64),
        torch.as_tensor(bunch.target, dtype=torch.long),
    )


def _digits_csv():
    """sklearn/datasets/data/digits.csv.gz as an array (1797, 65), or None when absent."""
    import gzip
    import importlib.util

    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "datasets", "data", "digits.csv.gz")
        if os.path.isfile(path):
            with gzip.open(path) as f:
                return np.loadtxt(f, delimiter=",")
    return None


def mnist1d_arrays(
    num_samples: int = 4000, generation_seed: int = 42, purpose: str = "this check"
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST-1D (Greydanus 2020): 40-sample 1-D signals of the ten digit templates, shifted,
    scaled, sheared and noised, generated procedurally by ``mnist1d.data.make_dataset`` (nothing
    is downloaded). Returns all ``num_samples`` signals (n, 40) float64 and labels 0..9, train and
    test halves of the package's split concatenated; callers split them with their own seeded
    generator.

    ``make_dataset`` seeds NumPy's and Python's *global* generators; their states are saved and
    restored here so no other draw in the process is shifted. Results are cached per
    (num_samples, generation_seed).
    """
    X, y = _mnist1d_cached(int(num_samples), int(generation_seed), purpose)
    return X.clone(), y.clone()


@functools.lru_cache(maxsize=4)
def _mnist1d_cached(num_samples: int, generation_seed: int, purpose: str):
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as exc:
        raise UsageError(f"{purpose} needs the mnist1d package: pip install mnist1d") from exc
    import random

    import torch

    args = get_dataset_args()
    args.num_samples, args.seed = num_samples, generation_seed
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    X = np.concatenate([data["x"], data["x_test"]]).astype(np.float64)
    y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)
    return torch.as_tensor(X), torch.as_tensor(y)


def digits(n: int, ctx: Context, stream: str = "data") -> Dataset:
    """n images from scikit-learn's digits (8x8, 1797 images), labels = standardised digit."""
    import torch

    images, labels = digits_images("--data digits")
    if n > len(labels):
        raise UsageError(f"n={n} exceeds the {len(labels)} digits images")
    order = torch.randperm(len(labels), generator=ctx.generator(stream))[:n]
    X = images[order]
    y = labels[order].to(torch.float64)
    y = (y - y.mean()) / y.std().clamp_min(1e-12)
    return Dataset(X, y, "digits")


def load_file(path: str, max_bytes: float | None = None) -> Dataset:
    """User data: ``.npz`` with arrays ``X`` (n, d) and ``y`` (n,), or ``.csv`` whose last
    column is y (one optional header line).

    A ``.npz`` whose arrays would take more than ``max_bytes`` in memory (default: half the
    memory available now) is refused from its headers, before anything is inflated.
    """
    _check_path(path)
    try:
        if path.endswith(".npz"):
            headers = npz_headers(path)
            _check_size(path, headers, max_bytes)
            with np.load(path, allow_pickle=False) as archive:
                X, y = np.asarray(archive["X"]), np.asarray(archive["y"])
        elif path.endswith(".csv"):
            table = _read_csv(path)
            X, y = table[:, :-1], table[:, -1]
        else:
            raise UsageError(f"data file {path}: expected a .npz or .csv file")
    except UsageError:
        raise
    except Exception as exc:  # numpy's many parse errors become one line
        raise UsageError(_one_line(f"data file {path} could not be read: {exc}")) from exc
    return _validated(X, y, path)


def file_shape(path: str) -> tuple[int, int]:
    """(n, d) of a data file without loading it: from the ``.npz`` headers, or by reading the
    ``.csv`` (text files are read whole). A claim can check its memory estimate with this
    before :func:`load_file` reads the arrays."""
    _check_path(path)
    if path.endswith(".npz"):
        shape = npz_headers(path)["X"][0]
        if len(shape) != 2:
            raise UsageError(f"data file {path}: X must be 2-D (n x d), got shape {shape}")
        return int(shape[0]), int(shape[1])
    n, d = load_file(path).X.shape
    return int(n), int(d)


def npz_headers(path: str) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """{"X": (shape, dtype), "y": (shape, dtype)} read from the members' ``.npy`` headers (the
    first few hundred bytes of each member, inflated alone); UsageError on a missing member or
    a file that is not a ``.npz``."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = {name.removesuffix(".npy"): name for name in archive.namelist()}
            missing = [key for key in ("X", "y") if key not in members]
            if missing:
                raise UsageError(
                    f"data file {path} lacks array(s) {', '.join(missing)} "
                    f"(has: {', '.join(sorted(members)) or 'none'})"
                )
            headers = {}
            for key in ("X", "y"):
                with archive.open(members[key]) as member:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        shape, _fortran, dtype = np.lib.format.read_array_header_1_0(member)
                    else:
                        shape, _fortran, dtype = np.lib.format.read_array_header_2_0(member)
                headers[key] = (tuple(int(s) for s in shape), np.dtype(dtype))
    except UsageError:
        raise
    except Exception as exc:  # not a zip, a member that is not .npy, a truncated header
        raise UsageError(_one_line(f"data file {path} could not be read: {exc}")) from exc
    return headers


def _check_path(path: str) -> None:
    if os.path.isdir(path):
        raise UsageError(f"data file {path} is a directory (expected a .npz or .csv file)")
    if not os.path.exists(path):
        raise UsageError(f"data file not found: {path}")
    if not os.path.isfile(path):
        raise UsageError(f"data file {path} is not a regular file")
    if not os.access(path, os.R_OK):
        raise UsageError(f"data file {path} is not readable")


def _check_size(path: str, headers: dict, max_bytes: float | None) -> None:
    if max_bytes is None:
        from .runtime import available_memory_bytes

        max_bytes = FILE_MEMORY_FRACTION * available_memory_bytes("cpu")
    # The arrays as read, plus their float64 copies (the loader converts to float64).
    need = sum(
        (dtype.itemsize + 8) * float(np.prod([float(s) for s in shape]))
        for shape, dtype in headers.values()
    )
    if need > max_bytes:
        from .runtime import format_bytes

        shapes = ", ".join(f"{k} {shape} {dtype}" for k, (shape, dtype) in headers.items())
        raise UsageError(
            f"data file {path} holds {shapes}: about {format_bytes(need)} in memory, more "
            f"than the {format_bytes(max_bytes)} a run may use"
        )


def _one_line(text: str) -> str:
    return text.splitlines()[0] if text else text


def _read_csv(path: str) -> np.ndarray:
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    if lines and not _is_numeric_row(lines[0]):
        lines = lines[1:]  # header
    if not lines:
        raise UsageError(f"data file {path} has no data rows")
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append([float(v) for v in line.split(",")])
        except ValueError:
            raise UsageError(
                f"data file {path}: row {number} is not numeric: {line[:60]!r}"
            ) from None
    if len({len(r) for r in rows}) != 1:
        raise UsageError(f"data file {path}: rows have different numbers of columns")
    if len(rows[0]) < 2:
        raise UsageError(f"data file {path}: need at least one feature column and a label column")
    return np.asarray(rows, dtype=np.float64)


def _is_numeric_row(line: str) -> bool:
    try:
        [float(v) for v in line.split(",")]
        return True
    except ValueError:
        return False


def _validated(X, y, path: str) -> Dataset:
    if X.dtype.kind not in "fiu" or y.dtype.kind not in "fiu":
        raise UsageError(f"data file {path}: X and y must be numeric")
    if X.ndim != 2:
        raise UsageError(f"data file {path}: X must be 2-D (n x d), got shape {X.shape}")
    y = y.reshape(-1) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise UsageError(f"data file {path}: y must have shape ({X.shape[0]},), got {y.shape}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise UsageError(f"data file {path} contains NaN or infinite values")
    import torch

    return Dataset(
        torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y, dtype=torch.float64), path
    )


def parallel_pairs(X: torch.Tensor, tol: float = 1e-10) -> list[tuple[int, int]]:
    """Index pairs (i < j) whose rows are parallel (|cos| >= 1 - tol) or zero."""
    import torch

    norms = X.norm(dim=1)
    if bool((norms == 0).any()):
        i = int(torch.nonzero(norms == 0)[0])
        return [(i, i)]
    U = X / norms[:, None]
    cos = (U @ U.T).abs()
    cos.fill_diagonal_(0)
    return [tuple(p) for p in torch.nonzero(torch.triu(cos >= 1 - tol)).tolist()]
