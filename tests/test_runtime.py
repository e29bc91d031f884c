"""Runtime context: seeded named streams, argument checks."""

import pytest
import torch

from theorylab.errors import UsageError
from theorylab.runtime import Context, format_bytes


def test_streams_are_reproducible_and_independent():
    a = Context(seed=5).randn(4, stream="init")
    assert torch.equal(a, Context(seed=5).randn(4, stream="init"))
    assert not torch.equal(a, Context(seed=5).randn(4, stream="data"))
    assert not torch.equal(a, Context(seed=6).randn(4, stream="init"))


def test_dtype_and_device_are_applied():
    x = Context(dtype="float32").randn(3, stream="s")
    assert x.dtype == torch.float32 and x.device.type == "cpu"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"seed": -1}, "seed must be a non-negative integer"),
        ({"dtype": "float16"}, "dtype must be one of"),
        ({"device": "tpu"}, "device must be cpu or cuda"),
    ],
)
def test_bad_context(kwargs, message):
    with pytest.raises(UsageError, match=message):
        Context(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA message")
def test_cuda_without_cuda_is_a_usage_error():
    with pytest.raises(UsageError, match="cuda requested but"):
        Context(device="cuda")


def test_format_bytes():
    assert format_bytes(3 * 2**30) == "3.0 GiB"


def test_format_bytes_never_overflows():
    """An estimate too large for a float (a Python int of 400 digits) still formats."""
    assert format_bytes(10**400) == "8.3e+375 YiB"  # 10^400 / 1024^8 = 8.27e375
    assert format_bytes(-(10**400)).startswith("-8.3e+375")
    assert format_bytes(float("inf")) == "inf B" and format_bytes(float("nan")) == "nan B"
    assert format_bytes(1023) == "1023.0 B" and format_bytes(2**80) == "1.0 YiB"


def test_importing_runtime_does_not_import_torch():
    import subprocess
    import sys

    code = "import sys, theorylab.runtime; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout
    assert out.strip() == "False"
