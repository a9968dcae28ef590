"""The machine facts and the model recommended for them: from the runtime's provider order and the
registry, not from lists of their own."""

from __future__ import annotations

import pytest

from qfinder.core.model import runtime
from qfinder.core.model.machine import (
    GPU_MEMORY_MB,
    GPU_NAMES,
    Machine,
    recommended_model,
    this_machine,
)
from qfinder.core.model.registry import REGISTRY, ModelSpec, Variant


def _spec(name: str, fp32_mb: int) -> ModelSpec:
    return ModelSpec(name=name, repo=f"x/{name}", family="qwen3", full_dim=64, min_dim=32,
                     default_dim=64, layers=2, hidden=64, variants=(
                         Variant("fp32", ("*",), fp32_mb, fp32_mb),
                         Variant("fp16", ("*",), fp32_mb // 2, fp32_mb // 2),
                         Variant("int8", (), fp32_mb // 4, fp32_mb // 4, made_locally=True)))


# heaviest first: the choice must not depend on the registry's order
MODELS = (_spec("huge", 4 * GPU_MEMORY_MB), _spec("mid", GPU_MEMORY_MB), _spec("small", 2000))


@pytest.mark.parametrize(("machine", "expected"), [
    (Machine(8, 64_000, None), ("small", "fp32")),  # a CPU: the lightest model, whatever the RAM
    (Machine(8, 64_000, "cuda"), ("mid", "fp16")),  # "huge" needs more than a typical GPU has
    (Machine(8, 4_000, "cuda"), ("small", "fp16")),  # little RAM: only the small one fits
    (Machine(8, 1_000, "cuda"), ("small", "fp32")),  # nothing fits in fp16: the CPU choice
    (Machine(8, None, "directml"), ("small", "fp32")),  # unknown RAM: nothing is assumed
])
def test_the_recommendation_comes_from_the_registry(machine, expected):
    best = recommended_model(machine, MODELS)
    assert (best.name, best.variant) == expected
    assert ("larger" in best.why) == (best.name == "mid")


def test_a_cpu_gets_the_small_model_the_readme_promises():
    best = recommended_model(Machine(4, 16_000, None), REGISTRY)
    assert (best.name, best.variant, best.why) == ("Qwen3-Embedding-0.6B", "fp32",
                                                   "it runs well on a CPU")


def test_the_gpu_is_the_first_one_the_runtime_would_try(monkeypatch):
    offered = ["ROCMExecutionProvider", "CoreMLExecutionProvider", "CUDAExecutionProvider",
               "CPUExecutionProvider"]
    monkeypatch.setattr(runtime.ort, "get_available_providers", lambda: offered)
    assert this_machine().gpu_provider == "cuda"  # runtime.AUTO_ORDER's order, not the build's


def test_a_gpu_the_runtime_never_tries_is_no_gpu(monkeypatch):
    # ROCm is offered by some builds, but the runtime does not try it: the model would run on
    # the CPU, so the machine must not be described (and advised) as having a GPU
    monkeypatch.setattr(runtime.ort, "get_available_providers",
                        lambda: ["ROCMExecutionProvider", "CPUExecutionProvider"])
    machine = this_machine()
    assert machine.gpu_provider is None and "CPU only" in machine.describe()


def test_every_gpu_the_runtime_tries_has_a_name_to_show():
    assert set(GPU_NAMES) == set(runtime.AUTO_ORDER) - {"cpu"}


def test_the_description_uses_the_one_size_format():
    assert Machine(4, 16_000, "cuda").describe() == \
        "This computer: 4 CPU cores, 16.0 GB RAM, GPU via CUDA."
