"""Bad model folders give a ModelError that says what to do; good layouts load."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qfinder.core.errors import ModelError
from qfinder.core.model.embedder import Embedder
from qfinder.core.model.folder import find_model_folder


@pytest.fixture
def st_copy(tiny_qwen3, tmp_path) -> Path:
    """The sentence-transformers layout (onnx/model.onnx + onnx/model.onnx_data) as a writable copy."""
    dest = tmp_path / "st"
    shutil.copytree(tiny_qwen3("st"), dest)
    assert (dest / "onnx" / "model.onnx_data").is_file()
    return dest


def test_all_three_layouts_load(tiny_qwen3, toy_folder):
    for folder in (tiny_qwen3("st"), tiny_qwen3("kv"), tiny_qwen3("plain"), toy_folder()):
        assert Embedder.from_folder(folder).embed_documents(["apple"]).shape[0] == 1


def test_missing_onnx_data(st_copy):
    (st_copy / "onnx" / "model.onnx_data").unlink()
    with pytest.raises(ModelError, match="model.onnx_data.*missing") as caught:
        Embedder.from_folder(st_copy)
    assert "must not be renamed" in caught.value.hint


def test_renamed_onnx_data(st_copy):
    (st_copy / "onnx" / "model.onnx_data").rename(st_copy / "onnx" / "weights.bin")
    with pytest.raises(ModelError, match="missing"):
        Embedder.from_folder(st_copy)


def test_truncated_onnx_data(st_copy):
    data = st_copy / "onnx" / "model.onnx_data"
    data.write_bytes(data.read_bytes()[: data.stat().st_size // 2])
    with pytest.raises(ModelError, match="incomplete") as caught:
        Embedder.from_folder(st_copy)
    assert "Download the model again" in caught.value.hint


def test_truncated_onnx(tiny_qwen3, tmp_path):
    dest = tmp_path / "plain"
    shutil.copytree(tiny_qwen3("plain"), dest)
    model = dest / "model.onnx"
    model.write_bytes(model.read_bytes()[:5000])
    with pytest.raises(ModelError, match="damaged or truncated") as caught:
        Embedder.from_folder(dest)
    assert "Download the model again" in caught.value.hint


def test_missing_tokenizer(toy_folder):
    folder = toy_folder()
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="No tokenizer.json") as caught:
        Embedder.from_folder(folder)
    assert caught.value.hint


def test_broken_tokenizer(toy_folder):
    folder = toy_folder()
    (folder / "tokenizer.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not a usable tokenizer"):
        Embedder.from_folder(folder)


def test_wrong_folder(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        Embedder.from_folder(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ModelError, match="No model.onnx") as caught:
        Embedder.from_folder(tmp_path)
    assert "qfinder models download" in caught.value.hint


def test_unsupported_graph_without_usable_output(toy_folder):
    with pytest.raises(ModelError, match="no usable output") as caught:
        Embedder.from_folder(toy_folder(output="logits"))
    assert "last_hidden_state" in caught.value.hint


def test_variants_are_found_by_name(toy_folder):
    folder = toy_folder()
    (folder / "onnx").mkdir()
    shutil.copy(folder / "model.onnx", folder / "onnx" / "model_q4.onnx")
    assert find_model_folder(folder, "q4").onnx_path.name == "model_q4.onnx"
    with pytest.raises(ModelError, match="variant 'fp16'"):
        find_model_folder(folder, "fp16")


def test_model_id_survives_a_copy_but_not_new_weights(tiny_qwen3, tmp_path):
    from qfinder.core.model.info import model_id

    first, second = tmp_path / "a" / "Qwen3-tiny", tmp_path / "b" / "Qwen3-tiny"
    shutil.copytree(tiny_qwen3("st"), first)
    shutil.copytree(tiny_qwen3("st"), second)
    assert model_id(find_model_folder(first), "fp32") == model_id(find_model_folder(second), "fp32")
    shutil.copy(tiny_qwen3("plain") / "model.onnx", second / "onnx" / "model.onnx")
    (second / "onnx" / "model.onnx_data").unlink()
    assert model_id(find_model_folder(first), "fp32") != model_id(find_model_folder(second), "fp32")
