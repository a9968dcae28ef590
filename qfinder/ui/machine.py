"""What this computer can run: RAM, cores, GPU providers, and the model to recommend."""

from __future__ import annotations

import os
from dataclasses import dataclass

GPU_PROVIDERS = ("CUDAExecutionProvider", "DmlExecutionProvider", "CoreMLExecutionProvider",
                 "ROCMExecutionProvider")


@dataclass(frozen=True)
class Machine:
    cores: int
    ram_mb: int | None
    gpu_provider: str | None

    def describe(self) -> str:
        ram = f"{self.ram_mb / 1024:.1f} GB RAM" if self.ram_mb else "unknown RAM"
        gpu = f"GPU via {self.gpu_provider.removesuffix('ExecutionProvider')}" if self.gpu_provider \
            else "no GPU found (CPU only)"
        return f"This computer: {self.cores} CPU cores, {ram}, {gpu}."


def total_ram_mb() -> int | None:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return int(pages * page_size / (1024 * 1024)) if pages > 0 and page_size > 0 else None


def gpu_provider() -> str | None:
    try:
        import onnxruntime
    except ImportError:  # pragma: no cover - a dependency
        return None
    available = set(onnxruntime.get_available_providers())
    return next((p for p in GPU_PROVIDERS if p in available), None)


def this_machine() -> Machine:
    return Machine(os.cpu_count() or 1, total_ram_mb(), gpu_provider())


def recommended_model(machine: Machine) -> tuple[str, str]:
    """(model name, variant): 0.6B on a CPU; 4B (fp16) with a GPU and enough memory."""
    if machine.gpu_provider and (machine.ram_mb or 0) >= 16 * 1024:
        return "Qwen3-Embedding-4B", "fp16"
    return "Qwen3-Embedding-0.6B", "fp32"
