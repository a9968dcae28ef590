"""SmoothQuant-style scaling (optimize_smooth.py) on the tiny Qwen3 model: the sites it folds, the
same function in fp32 after folding, and a model with activation outliers in front of the norms'
readers, where plain dynamic int8 must fail the gate and the smoothed candidate passes it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx

from qfinder.core.model.embedder import Embedder
from qfinder.core.model.folder import find_model_folder
from qfinder.core.model.optimize import optimize_model
from qfinder.core.model.optimize_gate import check, embed_sample, load_sample
from qfinder.core.model.optimize_smooth import (
    activation_maxima,
    build_smoothed,
    smooth_sites,
    smoothing_scales,
)
from qfinder.devtools.qwen3_folder import write_model_folder

OUTLIER = 1e3
CHANNELS = (5, 77)  # hidden channels made outliers (of 128)
ACT_CHANNELS = (9, 200)  # MLP channels made outliers (of 256)


def _with_norm_outliers(dest: Path) -> Path:
    """The tiny model, the same function in fp32, with activation outliers where SmoothQuant can
    reach them: two channels of both RMSNorms' weights (read by q/k/v and gate/up) and two up_proj
    outputs (read by down_proj) scaled up by 1e3, their readers' weights scaled down by as much.
    Six of the seven projection groups then see outliers: keeping two in fp32 cannot save them."""
    from support.qwen3 import FIXTURES, tiny_weights
    from support.qwen3 import TINY_CONFIG as cfg

    weights = {name: array.copy() for name, array in tiny_weights().items()}
    for layer in range(cfg.num_hidden_layers):
        p = f"layers.{layer}."
        for norm, readers in (("input_layernorm", ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")),
                              ("post_attention_layernorm", ("mlp.gate_proj", "mlp.up_proj"))):
            weights[p + norm + ".weight"][list(CHANNELS)] *= OUTLIER
            for reader in readers:
                weights[p + reader + ".weight"][:, list(CHANNELS)] /= OUTLIER
        weights[p + "mlp.up_proj.weight"][list(ACT_CHANNELS), :] *= OUTLIER
        weights[p + "mlp.down_proj.weight"][:, list(ACT_CHANNELS)] /= OUTLIER
    return write_model_folder(dest, cfg, weights, FIXTURES / "tokenizer.json")


def _graph(folder: Path) -> onnx.ModelProto:
    return onnx.load(str(find_model_folder(folder).onnx_path))


def test_the_sites_are_the_norms_in_front_of_qkv_and_gate_up_and_up_proj_in_front_of_down(tiny_qwen3):
    sites = smooth_sites(_graph(tiny_qwen3("plain")))
    readers = sorted(tuple(sorted(w.split(".")[-2] for w in site.weights)) for site in sites)
    assert readers == [("down_proj",)] * 2 + [("gate_proj", "up_proj")] * 2 + [("k_proj", "q_proj", "v_proj")] * 2
    assert all(site.producer_axis == (1 if "up_proj" in site.producer else 0) for site in sites)
    assert not any("o_proj" in w for site in sites for w in site.weights)  # behind attention: not reachable


def test_an_activation_read_by_anything_but_weighted_matmuls_is_left_alone(tiny_qwen3):
    model = _graph(tiny_qwen3("plain"))
    first = smooth_sites(model)[0]
    model.graph.output.extend([onnx.helper.make_tensor_value_info(first.activation, onnx.TensorProto.FLOAT, None)])
    assert first.activation not in {site.activation for site in smooth_sites(model)}


def test_scales_balance_activation_and_weight_ranges():
    scales = smoothing_scales(np.array([1000.0, 1.0, 0.0]), np.array([0.001, 1.0, 2.0]))
    np.testing.assert_allclose(scales, [1e3, 1.0, 1.0], rtol=1e-6)  # sqrt(1000 / 0.001); untouched


def test_folding_keeps_the_fp32_function_and_flattens_the_outliers(tmp_path):
    source = _with_norm_outliers(tmp_path / "outliers")
    folder = find_model_folder(source)
    smoothed_dir = tmp_path / "smoothed"
    smoothed, sites = build_smoothed(folder, smoothed_dir, list(load_sample().passages[:8]))
    assert sites == 6
    for item in source.iterdir():  # beside the tokenizer and configs, the scaled graph is a model folder
        if ".onnx" not in item.name:
            (smoothed_dir / item.name).symlink_to(item)
    sample = load_sample()
    before = embed_sample(Embedder.from_folder(source, provider="cpu"), sample)
    after = embed_sample(Embedder.from_folder(smoothed_dir, provider="cpu"), sample)
    assert check(before, after, min_cosine=0.9999).passed  # the same function, up to rounding
    texts = list(sample.passages[:4])

    def spread(graph: Path) -> float:
        """The worst ratio of an activation's largest channel to its median channel."""
        model = onnx.load(str(graph))
        names = [site.activation for site in smooth_sites(model)]
        model.graph.output.extend(onnx.helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, None) for n in names)
        stats = tmp_path / f"stats-{graph.parent.name}.onnx"
        onnx.save_model(model, str(stats))
        maxima = activation_maxima(folder, stats, names, texts)
        return max(float(m.max() / np.median(m)) for m in maxima.values())

    assert spread(folder.onnx_path) > 100 and spread(smoothed) < spread(folder.onnx_path) / 10


def test_outliers_in_front_of_the_norms_fail_plain_dynamic_int8_and_smoothquant_passes(tmp_path):
    source = _with_norm_outliers(tmp_path / "Qwen3-norm-outliers")
    report = optimize_model(source)
    built = {c.name: c for c in report.candidates}
    dynamic, smoothed = built["int8-dynamic"], built["int8-smooth"]
    assert dynamic.status == "failed" and dynamic.min_cosine < 0.995 and len(dynamic.kept_fp32) == 2
    assert smoothed.passed and smoothed.kept_fp32 == () and smoothed.min_cosine >= 0.995, smoothed.note
    assert report.chosen in ("int8-smooth", "fp32-fused", "fp32")  # whichever safe one is fastest here
    dest = tmp_path / "Qwen3-norm-outliers-optimized"
    assert dest.exists() == (report.chosen != "fp32")
    if report.chosen == "int8-smooth":
        result = check(embed_sample(Embedder.from_folder(source, provider="cpu"), load_sample()),
                       embed_sample(Embedder.from_folder(dest, provider="cpu"), load_sample()))
        assert result.passed and Embedder.from_folder(dest).info.quantization == "int8-dynamic"


def test_the_scales_are_measured_on_half_of_the_sample_so_the_gate_also_sees_unseen_texts():
    from qfinder.core.model.optimize_smooth import calibration_texts

    sample = load_sample()
    texts = calibration_texts(sample)
    unseen = sample.passages[len(sample.passages) // 2:]
    assert texts and not set(unseen) & set(texts)
    assert not any(passage in text for passage in unseen for text in texts)  # nor inside a long text
