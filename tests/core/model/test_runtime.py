"""Providers, session options, cancellation and out-of-memory handling on real onnxruntime sessions."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from qfinder.core.errors import CancelledError, ModelError
from qfinder.core.model import runtime
from qfinder.core.model.batching import plan_batches
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.info import EmbedOptions


def test_telemetry_is_disabled_before_import():
    assert os.environ.get("ORT_DISABLE_TELEMETRY") == "1"


def test_loading_a_model_writes_no_telemetry_files(toy_folder, tmp_path):
    # Without ORT_DISABLE_TELEMETRY, onnxruntime 1.32 writes ~/.cache/Microsoft/DeveloperTools/...
    import subprocess
    import sys

    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(home), XDG_CACHE_HOME=str(home / ".cache"))
    code = ("from qfinder.core.model.embedder import Embedder; "
            f"Embedder.from_folder({str(toy_folder())!r}).embed_documents(['apple'])")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=120)
    assert list(home.iterdir()) == []


def test_session_options_for_a_desktop_app():
    options = runtime.session_options()
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert options.get_session_config_entry("session.inter_op.allow_spinning") == "0"
    assert not options.enable_mem_pattern and options.enable_cpu_mem_arena


def _big_intermediate_session():
    """A graph whose two intermediates are 192 MB each while its input and output are tiny."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["big"]),
         helper.make_node("Mul", ["big", "x"], ["bigger"]),
         helper.make_node("ReduceSum", ["bigger"], ["y"], keepdims=0)],
        "big", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1]),
                helper.make_tensor_value_info("shape", TensorProto.INT64, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    return runtime.ort.InferenceSession(model.SerializeToString(), sess_options=runtime.session_options(),
                                        providers=["CPUExecutionProvider"])


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS"))) / 1024


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads resident memory from /proc")
def test_a_run_gives_its_working_memory_back():
    session = _big_intermediate_session()
    feeds = {"x": np.ones(1, np.float32), "shape": np.array([48 * 2**20], np.int64)}
    # onnxruntime never shrinks the arena's first region; every opened model's first run is the
    # one-text dimension probe (embedder._probe_dim), which keeps that region small.
    session.run(None, {**feeds, "shape": np.array([16], np.int64)}, runtime.new_run_options())
    before = _rss_mb()
    session.run(None, feeds, runtime.new_run_options())
    after_shrinking_run = _rss_mb()
    session.run(None, feeds, runtime.ort.RunOptions())  # the control: the arena keeps what it took
    after_plain_run = _rss_mb()
    assert after_shrinking_run - before < 64
    assert after_plain_run - before > 150


def test_auto_uses_best_available_and_reports_it(toy_folder):
    emb = Embedder.from_folder(toy_folder(), provider="auto")
    assert emb.provider.used == runtime.available_providers()[0]
    assert not emb.provider.fell_back


@pytest.mark.skipif("cuda" in runtime.available_providers(), reason="this onnxruntime build has CUDA")
def test_requested_gpu_falls_back_to_cpu_with_reason(toy_folder):
    emb = Embedder.from_folder(toy_folder(), provider="cuda")
    assert emb.provider.requested == "cuda" and emb.provider.used == "cpu"
    assert emb.provider.fell_back and "CUDAExecutionProvider" in emb.provider.fallback_reason


def test_unknown_provider_is_a_model_error(toy_folder):
    with pytest.raises(ModelError, match="Unknown execution provider"):
        Embedder.from_folder(toy_folder(), provider="tpu")


def test_cancel_stops_a_running_batch_and_sticks_until_reset(toy_folder):
    emb = Embedder.from_folder(toy_folder(slow_layers=100))
    started = threading.Event()
    emb.on_run_start = started.set
    text = " ".join(["apple"] * 500)
    outcome: list[object] = []

    def work() -> None:
        begin = time.perf_counter()
        try:
            emb.embed_documents([text])
            outcome.append("finished")
        except CancelledError:
            outcome.append(time.perf_counter() - begin)

    worker = threading.Thread(target=work)
    worker.start()
    assert started.wait(30)
    emb.cancel()
    worker.join(30)
    assert outcome and isinstance(outcome[0], float), outcome
    with pytest.raises(CancelledError):
        emb.embed_documents(["apple"])
    emb.reset_cancel()
    emb.on_run_start = None
    assert emb.embed_documents(["apple"]).shape == (1, 16)


def test_out_of_memory_halves_the_batch_down_to_one_text(toy_folder):
    # The toy allocates 1e7 ** batch floats: one text fits, two cannot (a real allocation failure).
    emb = Embedder.from_folder(toy_folder(kind="oom"), options=EmbedOptions(max_batch=8))
    texts = ["apple", "banana", "dog", "cat", "red car"]
    embedded = emb.embed_documents_with_stats(texts)
    reference = Embedder.from_folder(toy_folder("plain-kv")).embed_documents(texts)
    assert np.allclose(embedded.vectors, reference, atol=1e-6)
    assert embedded.stats.batches == len(texts)


def test_plan_batches_bounds_padded_tokens_and_waste():
    lengths = [5, 100, 98, 7, 50, 51, 6, 99, 49]
    batches = plan_batches(lengths, max_padded_tokens=250, max_batch=16, max_waste=0.1)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    for batch in batches:
        longest = max(lengths[i] for i in batch)
        assert len(batch) * longest <= 250 or len(batch) == 1
        assert min(lengths[i] for i in batch) >= 0.9 * longest


def test_single_text_out_of_memory_is_cut_and_flagged(toy_folder):
    # This toy cannot allocate for rows longer than 21 tokens: a 40-token text is halved to 20.
    emb = Embedder.from_folder(toy_folder(kind="oom_len"), options=EmbedOptions(max_batch=8))
    words = ("apple banana cherry dog cat car house tree river sky " * 4).split()
    embedded = emb.embed_documents_with_stats(["red car", " ".join(words[:39])])
    assert embedded.stats.truncated_indices == (1,)
    reference = Embedder.from_folder(toy_folder("plain-kv"))
    expected = reference.embed_documents(["red car", " ".join(words[:19])])  # 19 words + EOS = 20 tokens
    assert np.allclose(embedded.vectors, expected, atol=1e-6)
