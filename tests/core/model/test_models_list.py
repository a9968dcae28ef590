"""`qfinder models list` tells whole model folders from partial downloads, on real folders:
a partial one (an unfinished .part file, missing weights, an empty folder) is listed as
partial with the command that resumes it, never as downloaded."""

from __future__ import annotations

import shutil

import pytest
from huggingface_hub import constants

from qfinder.cli import run
from qfinder.core.errors import DownloadError
from qfinder.core.model.download import download_model
from qfinder.core.paths import models_dir


def listing(capsys) -> tuple[list[str], str]:
    """(folders listed as downloaded, the partial-downloads part of the output)."""
    assert run(["models", "list"]) == 0
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("Downloaded in "))
    names = line.split(": ", 1)[1]
    return ([] if names == "none" else names.split(", ")), out.split(line, 1)[1]


def test_partial_downloads_are_listed_as_partial_and_resumable(tiny_qwen3, capsys):
    root = models_dir()
    shutil.copytree(tiny_qwen3("st"), root / "Qwen3-Embedding-4B")  # whole
    shutil.copytree(tiny_qwen3("st"), root / "Qwen3-Embedding-8B")
    (root / "Qwen3-Embedding-8B" / "onnx" / "model.onnx_data").unlink()  # weights missing
    (root / "Qwen3-Embedding-0.6B").mkdir()  # a download that never got a file
    unfinished = root / "Qwen3-Embedding-0.6B-q4"
    shutil.copytree(tiny_qwen3("st"), unfinished)
    (unfinished / "onnx" / "model.onnx").rename(unfinished / "onnx" / "model_q4.onnx.part")

    downloaded, rest = listing(capsys)
    assert downloaded == ["Qwen3-Embedding-4B"]
    lines = {line.split()[0]: line for line in rest.strip().splitlines()[1:]}
    assert set(lines) == {"Qwen3-Embedding-0.6B", "Qwen3-Embedding-0.6B-q4", "Qwen3-Embedding-8B"}
    assert "empty" in lines["Qwen3-Embedding-0.6B"]
    assert "model_q4.onnx.part" in lines["Qwen3-Embedding-0.6B-q4"]
    assert "model.onnx_data" in lines["Qwen3-Embedding-8B"]
    assert lines["Qwen3-Embedding-0.6B"].endswith("qfinder models download Qwen3-Embedding-0.6B")
    assert lines["Qwen3-Embedding-0.6B-q4"].endswith("qfinder models download Qwen3-Embedding-0.6B --variant q4")
    assert lines["Qwen3-Embedding-8B"].endswith("qfinder models download Qwen3-Embedding-8B")


def test_a_failed_download_leaves_no_folder_that_looks_downloaded(monkeypatch, capsys):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DownloadError):
        download_model("Qwen3-Embedding-0.6B")
    assert not (models_dir() / "Qwen3-Embedding-0.6B").exists()
    assert listing(capsys)[0] == []


def test_a_hand_made_folder_without_a_model_is_incomplete_without_a_resume_command(capsys):
    folder = models_dir() / "my-model"
    folder.mkdir(parents=True)
    (folder / "tokenizer.json").write_text("{}")
    downloaded, rest = listing(capsys)
    assert downloaded == [] and "my-model" in rest and "qfinder models download" not in rest
