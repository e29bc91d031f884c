"""Data loaders: synthetic sphere, user files (.npz / .csv) and their failure messages."""

import os

import numpy as np
import pytest
import torch

from theorylab.data import load_file, parallel_pairs, unit_sphere
from theorylab.errors import UsageError
from theorylab.runtime import Context


def test_sphere_points_have_unit_norm_and_are_seeded():
    ds = unit_sphere(20, 5, Context(seed=1))
    assert torch.allclose(ds.X.norm(dim=1), torch.ones(20, dtype=torch.float64), atol=1e-15)
    assert torch.equal(ds.X, unit_sphere(20, 5, Context(seed=1)).X)
    assert ds.y.shape == (20,)


def test_npz_and_csv_round_trip(tmp_path):
    X = np.arange(12.0).reshape(4, 3) + 1
    y = np.array([1.0, -1.0, 0.5, 2.0])
    np.savez(tmp_path / "d.npz", X=X, y=y)
    ds = load_file(str(tmp_path / "d.npz"))
    assert ds.n == 4 and ds.d == 3 and torch.equal(ds.y, torch.as_tensor(y))
    (tmp_path / "d.csv").write_text(
        "a,b,c,label\n" + "\n".join(",".join(map(str, [*r, t])) for r, t in zip(X, y, strict=True))
    )
    ds_csv = load_file(str(tmp_path / "d.csv"))
    assert torch.equal(ds_csv.X, ds.X) and torch.equal(ds_csv.y, ds.y)


@pytest.mark.parametrize(
    "writer, message",
    [
        (lambda p: None, "data file not found"),
        (lambda p: np.savez(p, X=np.ones((3, 2))), r"lacks array\(s\) y"),
        (lambda p: np.savez(p, X=np.ones((3, 2)), y=np.ones(4)), r"y must have shape \(3,\)"),
        (lambda p: np.savez(p, X=np.ones(3), y=np.ones(3)), "X must be 2-D"),
        (lambda p: np.savez(p, X=np.full((3, 2), np.nan), y=np.ones(3)), "NaN or infinite"),
        (lambda p: open(p, "w").write("not a zip"), "could not be read"),
    ],
)
def test_bad_npz_files(tmp_path, writer, message):
    path = str(tmp_path / "bad.npz")
    writer(path)
    with pytest.raises(UsageError, match=message):
        load_file(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("1,2,3\n4,five,6\n", "row 2 is not numeric"),
        ("1,2,3\n4,5\n", "different numbers of columns"),
        ("x,y\n", "no data rows"),
        ("1\n2\n", "at least one feature column"),
    ],
)
def test_bad_csv_files(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(UsageError, match=message):
        load_file(str(path))


def test_unknown_extension(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("1,2")
    with pytest.raises(UsageError, match="expected a .npz or .csv"):
        load_file(str(path))


def test_parallel_pairs_finds_parallel_and_antiparallel_rows():
    X = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-2.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    assert parallel_pairs(X) == [(0, 2)]
    assert parallel_pairs(torch.eye(3, dtype=torch.float64)) == []


def test_directory_is_named_as_such(tmp_path):
    with pytest.raises(UsageError, match="is a directory"):
        load_file(str(tmp_path))


def test_npz_too_large_is_refused_from_its_header_before_inflating(tmp_path):
    """A compressed member that would inflate past the limit is refused from its .npy header:
    here 2e6 zeros (16 MB as float64, a few kB compressed) against a 1 MB limit."""
    import time

    from theorylab.data import file_shape, npz_headers

    path = str(tmp_path / "bomb.npz")
    np.savez_compressed(path, X=np.zeros((200_000, 10)), y=np.zeros(200_000))
    assert os.path.getsize(path) < 100_000
    headers = npz_headers(path)
    assert headers["X"] == ((200_000, 10), np.dtype("float64"))
    assert file_shape(path) == (200_000, 10)
    start = time.perf_counter()
    with pytest.raises(UsageError, match=r"X \(200000, 10\) float64.*more than the 1.0 MiB"):
        load_file(path, max_bytes=2**20)
    assert time.perf_counter() - start < 0.5
    assert load_file(path).n == 200_000  # within the default limit (half the free memory)


def test_npz_with_a_member_that_is_not_npy(tmp_path):
    import zipfile

    path = str(tmp_path / "odd.npz")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("X.npy", b"not an array")
        archive.writestr("y.npy", b"nor this")
    with pytest.raises(UsageError, match="could not be read"):
        load_file(path)
