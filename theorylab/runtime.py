"""What a run needs besides its parameters: seed, device, dtype and seeded random streams.

Every random draw in theorylab comes from :meth:`Context.generator` (no global RNG). Streams
are named ("data", "init", ...) and seeded from ``sha256(seed:stream)``, so adding a new draw
to one stream never shifts another. Draws happen on the CPU and are then moved to the device,
so a CUDA run sees the same data and initialisation as a CPU run with the same seed.

This module imports torch only when a tensor is made (``generator``, ``randn``, ``to``, or a
cuda device is asked for): claim modules import :class:`Context` at their top level, and
``--list`` / ``--help`` must stay free of torch.

Example:
    >>> Context(seed=3).stream_seed("data") == Context(seed=3).stream_seed("data")
    True
    >>> Context(seed=3).stream_seed("data") != Context(seed=3).stream_seed("init")
    True
    >>> format_bytes(3 * 2**30), format_bytes(10**400)
    ('3.0 GiB', '8.3e+375 YiB')
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import UsageError

if TYPE_CHECKING:
    import torch

DTYPE_NAMES = ("float64", "float32")
DEVICES = ("cpu", "cuda")


def torch_dtype(name: str) -> torch.dtype:
    """The torch dtype called ``name`` (one of :data:`DTYPE_NAMES`)."""
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[name]


@dataclass(frozen=True)
class Context:
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float64"

    def __post_init__(self):
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise UsageError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.dtype not in DTYPE_NAMES:
            raise UsageError(f"dtype must be one of {', '.join(DTYPE_NAMES)}, got {self.dtype!r}")
        if self.device not in DEVICES:
            raise UsageError(f"device must be cpu or cuda, got {self.device!r}")
        if self.device == "cuda":
            import torch

            if not torch.cuda.is_available():
                raise UsageError(
                    "device cuda requested but torch.cuda.is_available() is False here"
                )

    @property
    def torch_device(self) -> torch.device:
        import torch

        return torch.device(self.device)

    @property
    def torch_dtype(self) -> torch.dtype:
        return torch_dtype(self.dtype)

    def stream_seed(self, stream: str) -> int:
        """The 63-bit seed of the named stream: sha256("seed:stream"), first 8 bytes, >> 1."""
        digest = hashlib.sha256(f"{self.seed}:{stream}".encode()).digest()
        return int.from_bytes(digest[:8], "little") >> 1

    def generator(self, stream: str) -> torch.Generator:
        import torch

        return torch.Generator(device="cpu").manual_seed(self.stream_seed(stream))

    def randn(self, *shape: int, stream: str) -> torch.Tensor:
        """Standard normal draws from ``stream`` (float64 on the CPU, then device/dtype)."""
        import torch

        x = torch.randn(*shape, generator=self.generator(stream), dtype=torch.float64)
        return self.to(x)

    def to(self, x) -> torch.Tensor:
        import torch

        return torch.as_tensor(x, dtype=self.torch_dtype).to(self.torch_device)


def available_memory_bytes(device: str) -> int:
    """Memory a run may use: free GPU memory for cuda, MemAvailable (Linux) for the CPU."""
    if device == "cuda":
        import torch

        free, _total = torch.cuda.mem_get_info()
        return int(free)
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 8 * 2**30


_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


def format_bytes(n: float) -> str:
    """``n`` bytes in binary units, for any number: a Python int too large for a float
    (an estimate of 10**400 bytes) is formatted from its digit count, never an OverflowError."""
    try:
        x = float(n)
    except OverflowError:  # an int beyond 1.8e308 (math.log10 takes any int)
        exponent = math.log10(abs(n)) - len(_UNITS[1:]) * math.log10(1024)
        mantissa, power = 10 ** (exponent % 1), int(exponent // 1)
        return f"{'-' if n < 0 else ''}{mantissa:.1f}e+{power} {_UNITS[-1]}"
    if not math.isfinite(x):  # an estimate that overflowed: "inf B", not "inf YiB"
        return f"{x} B"
    for unit in _UNITS:
        if abs(x) < 1024 or unit == _UNITS[-1]:
            if abs(x) >= 1e5:
                return f"{x:.1e} {unit}"
            return f"{x:.1f} {unit}"
        x /= 1024
    raise AssertionError("unreachable")


@contextlib.contextmanager
def one_torch_thread() -> Iterator[None]:
    """torch's intra-op threads set to 1 for the block (restored after): claims that run many
    small tensor operations lose more to thread hand-offs than they gain (no_bad_minima's
    default run: 13.9 s of CPU on 1 thread, 34.7 s on 2, on the shared 2-core machine)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def run_in_lanes(tasks: dict[str, Callable[[], Any]], lanes: int = 2) -> dict[str, Any]:
    """{name: task()} for independent tasks, ``lanes`` Python threads taking them in order,
    torch on one intra-op thread (torch releases the GIL inside its kernels, so two lanes use
    two cores). The results do not depend on the scheduling when the tasks share no state
    (each draws from its own named random streams); the first task's exception, in order,
    propagates after the running tasks end. ``lanes=1`` runs the tasks in turn in the calling
    thread, still on one intra-op thread, so both paths round alike.

    Example:
        >>> run_in_lanes({"a": lambda: 1, "b": lambda: 2})
        {'a': 1, 'b': 2}
        >>> run_in_lanes({"a": lambda: 1, "b": lambda: 2}, lanes=1)
        {'a': 1, 'b': 2}
    """
    import concurrent.futures

    if lanes <= 1:
        with one_torch_thread():
            return {name: task() for name, task in tasks.items()}
    with one_torch_thread(), concurrent.futures.ThreadPoolExecutor(max_workers=lanes) as pool:
        futures = {name: pool.submit(task) for name, task in tasks.items()}
        try:
            return {name: future.result() for name, future in futures.items()}
        except BaseException:
            for future in futures.values():
                future.cancel()
            raise
