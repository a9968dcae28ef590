"""What this computer can run (cores, RAM, the GPU the runtime would use) and the registry model
to recommend for it.

Importing this module loads no onnxruntime, so the window can show the facts: only
`this_machine()` asks the runtime which providers it offers, in the order it tries them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from qfinder.core.model.registry import REGISTRY, ModelSpec, Variant
from qfinder.core.units import MB, format_size

# The runtime's GPU providers (runtime.AUTO_ORDER without "cpu"), as people know them.
GPU_NAMES = {"cuda": "CUDA", "directml": "DirectML", "coreml": "Core ML"}
# onnxruntime does not say how much memory a GPU has: assume a common desktop card (8–16 GB).
GPU_MEMORY_MB = 12_000
RAM_SHARE = 0.6  # of the RAM a model may take; the rest stays with the desktop and its apps
CPU_WHY = "it runs well on a CPU"
LARGER_WHY = "your GPU can run a larger, more accurate model"
HALF_WHY = "your GPU runs it in half precision, in half the memory"


@dataclass(frozen=True)
class Machine:
    cores: int
    ram_mb: int | None  # decimal megabytes (units.MB), as the registry's sizes
    gpu_provider: str | None  # the runtime's short name ("cuda", …); None: CPU only

    def describe(self) -> str:
        ram = f"{format_size(self.ram_mb * MB)} RAM" if self.ram_mb else "unknown RAM"
        gpu = (f"GPU via {GPU_NAMES.get(self.gpu_provider, self.gpu_provider)}" if self.gpu_provider
               else "no GPU found (CPU only)")
        return f"This computer: {self.cores} CPU cores, {ram}, {gpu}."


@dataclass(frozen=True)
class Recommendation:
    name: str  # a registry model
    variant: str
    why: str  # the reason, as the setup dialog says it


def total_ram_mb() -> int | None:
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # not on Windows, or not reported
        return None
    return pages * page_size // MB if pages > 0 and page_size > 0 else None


def first_gpu(providers: Iterable[str]) -> str | None:
    """The first GPU among the runtime's short provider names, which come in the order it tries."""
    return next((p for p in providers if p in GPU_NAMES), None)


def this_machine() -> Machine:
    from qfinder.core.model.runtime import available_providers  # loads onnxruntime only now

    return Machine(os.cpu_count() or 1, total_ram_mb(), first_gpu(available_providers()))


def recommended_model(machine: Machine, registry: Sequence[ModelSpec] = REGISTRY) -> Recommendation:
    """On a CPU the lightest fp32 model: speed is what a CPU lacks. With a GPU the largest fp16
    model that fits a share of the RAM and a common GPU's memory; if none does, the CPU choice."""
    lightest = min(_offered(registry, "fp32"), key=lambda c: c[1].ram_mb)
    cpu_choice = Recommendation(lightest[0].name, lightest[1].name, CPU_WHY)
    if machine.gpu_provider is None:
        return cpu_choice
    budget = min((machine.ram_mb or 0) * RAM_SHARE, GPU_MEMORY_MB)
    fitting = [c for c in _offered(registry, "fp16") if c[1].ram_mb <= budget]
    if not fitting:
        return cpu_choice
    spec, variant = max(fitting, key=lambda c: c[1].ram_mb)
    return Recommendation(spec.name, variant.name, HALF_WHY if spec is lightest[0] else LARGER_WHY)


def _offered(registry: Sequence[ModelSpec], variant: str) -> list[tuple[ModelSpec, Variant]]:
    """The downloadable `variant` of every model that has one."""
    return [(spec, v) for spec in registry for v in spec.variants
            if v.name == variant and not v.made_locally]
