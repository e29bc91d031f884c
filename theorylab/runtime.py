"""What a run needs besides its parameters: seed, device, dtype and seeded random streams.

Every random draw in theorylab comes from :meth:`Context.generator` (no global RNG). Streams
are named ("data", "init", ...) and seeded from ``sha256(seed:stream)``, so adding a new draw
to one stream never shifts another. Draws happen on the CPU and are then moved to the device,
so a CUDA run sees the same data and initialisation as a CPU run with the same seed.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch

from .errors import UsageError

DTYPES = {"float64": torch.float64, "float32": torch.float32}


@dataclass(frozen=True)
class Context:
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float64"

    def __post_init__(self):
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise UsageError(f"seed must be a non-negative integer, got {self.seed!r}")
        if self.dtype not in DTYPES:
            raise UsageError(f"dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.device not in ("cpu", "cuda"):
            raise UsageError(f"device must be cpu or cuda, got {self.device!r}")
        if self.device == "cuda" and not torch.cuda.is_available():
            raise UsageError("device cuda requested but torch.cuda.is_available() is False here")

    @property
    def torch_device(self) -> torch.device:
        return torch.device(self.device)

    @property
    def torch_dtype(self) -> torch.dtype:
        return DTYPES[self.dtype]

    def generator(self, stream: str) -> torch.Generator:
        digest = hashlib.sha256(f"{self.seed}:{stream}".encode()).digest()
        return torch.Generator(device="cpu").manual_seed(int.from_bytes(digest[:8], "little") >> 1)

    def randn(self, *shape: int, stream: str) -> torch.Tensor:
        """Standard normal draws from ``stream`` (float64 on the CPU, then device/dtype)."""
        x = torch.randn(*shape, generator=self.generator(stream), dtype=torch.float64)
        return self.to(x)

    def to(self, x) -> torch.Tensor:
        return torch.as_tensor(x, dtype=self.torch_dtype).to(self.torch_device)


def available_memory_bytes(device: str) -> int:
    """Memory a run may use: free GPU memory for cuda, MemAvailable (Linux) for the CPU."""
    if device == "cuda":
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


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"
