"""The downloader against a local stand-in of the Hub: a real HTTP server on 127.0.0.1 serving the
few endpoints huggingface_hub uses (model info, HEAD/GET resolve with Range), HF_ENDPOINT pointed
at it. Nothing of qfinder is mocked."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from huggingface_hub import constants

from qfinder.core.errors import DownloadError
from qfinder.core.model.download import download_model, target_folder
from qfinder.core.model.registry import find_spec

COMMIT = "0123456789abcdef0123456789abcdef01234567"
REPO = "onnx-community/Qwen3-Embedding-0.6B-ONNX"


class FakeHub(BaseHTTPRequestHandler):
    files: dict[str, bytes] = {}
    drop_after: dict[str, int] = {}  # file -> bytes to send before hanging up (once)
    requests: list[tuple[str, str, str]] = []

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def do_GET(self) -> None:
        self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        path = self.path.split("?")[0]
        self.requests.append((self.command, path, self.headers.get("Range", "")))
        if path.startswith(f"/api/models/{REPO}"):
            return self._send(200, json.dumps(self._info()).encode(), "application/json", send_body)
        prefix = f"/{REPO}/resolve/"
        if path.startswith(prefix):
            name = path[len(prefix):].split("/", 1)[1]
            if name in self.files:
                return self._send_file(name, send_body)
        self._send(404, b'{"error":"not found"}', "application/json", send_body, {"X-Error-Code": "RepoNotFound"})

    def _info(self) -> dict[str, object]:
        return {"id": REPO, "modelId": REPO, "sha": COMMIT,
                "siblings": [{"rfilename": n, "size": len(b)} for n, b in self.files.items()]}

    def _send_file(self, name: str, send_body: bool) -> None:
        body, start = self.files[name], 0
        if self.headers.get("Range", "").startswith("bytes="):
            start = int(self.headers["Range"][6:].split("-")[0])
        extra = {"ETag": f'"{hashlib.sha256(body).hexdigest()}"', "X-Repo-Commit": COMMIT, "Accept-Ranges": "bytes"}
        if start:
            extra["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
        cut = self.drop_after.pop(name, None) if send_body else None
        self._send(206 if start else 200, body[start:], "application/octet-stream", send_body, extra, cut)

    def _send(self, code: int, body: bytes, kind: str, send_body: bool, extra: dict[str, str] | None = None,
              cut: int | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body if cut is None else body[:cut])
            self.wfile.flush()
        if cut is not None:
            self.close_connection = True


@pytest.fixture
def hub(monkeypatch) -> Iterator[type[FakeHub]]:
    FakeHub.files = {
        "config.json": json.dumps({"model_type": "qwen3", "hidden_size": 1024}).encode(),
        "tokenizer.json": b'{"version": "1.0"}',
        "onnx/model.onnx": b"graph" * 1000,
        "onnx/model.onnx_data": bytes(range(256)) * 400,
        "onnx/model_q4.onnx": b"q4graph" * 100,
        "README.md": b"# not wanted",
    }
    FakeHub.requests = []
    FakeHub.drop_after = {}
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHub)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)  # the suite runs offline; this server is local
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
    yield FakeHub
    server.shutdown()
    server.server_close()
    thread.join()


def test_downloads_one_variant_as_real_files_with_progress(hub, tmp_path):
    seen: list[tuple[int, int, str]] = []
    folder = download_model("Qwen3-Embedding-0.6B", "fp32", root=tmp_path, progress=lambda *a: seen.append(a))
    assert folder == tmp_path / "Qwen3-Embedding-0.6B"
    for name in ("config.json", "tokenizer.json", "onnx/model.onnx", "onnx/model.onnx_data"):
        path = folder / name
        assert path.is_file() and not path.is_symlink() and path.read_bytes() == hub.files[name]
    assert not (folder / "onnx" / "model_q4.onnx").exists() and not (folder / "README.md").exists()
    total = sum(len(hub.files[n]) for n in ("config.json", "tokenizer.json", "onnx/model.onnx",
                                             "onnx/model.onnx_data"))
    assert seen[-1][:2] == (total, total)
    assert all(a[0] <= b[0] for a, b in zip(seen, seen[1:], strict=False))


def test_resumes_a_partial_file_with_a_range_request(hub, tmp_path):
    folder = target_folder(find_spec("Qwen3-Embedding-0.6B"), "q4", tmp_path)
    data = hub.files["onnx/model_q4.onnx"]
    part = folder / "onnx" / "model_q4.onnx.part"  # what an earlier, interrupted run left
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:300])
    download_model("Qwen3-Embedding-0.6B", "q4", root=tmp_path)
    assert (folder / "onnx" / "model_q4.onnx").read_bytes() == data and not part.exists()
    gets = [(path, byte_range) for method, path, byte_range in hub.requests if method == "GET"]
    assert any(p.endswith("/onnx/model_q4.onnx") and r == "bytes=300-" for p, r in gets), gets


def test_connection_dropped_mid_file_then_resumed(hub, tmp_path):
    hub.drop_after["onnx/model.onnx_data"] = 40000  # the server hangs up after 40 kB, once
    with pytest.raises(DownloadError) as caught:
        download_model("Qwen3-Embedding-0.6B", root=tmp_path)
    assert "again" in caught.value.hint
    folder = download_model("Qwen3-Embedding-0.6B", root=tmp_path)
    assert (folder / "onnx" / "model.onnx_data").read_bytes() == hub.files["onnx/model.onnx_data"]
    ranges = [r for m, p, r in hub.requests if m == "GET" and p.endswith("model.onnx_data")]
    assert ranges[0] == "" and ranges[-1].startswith("bytes=") and ranges[-1] != "bytes=0-"


def test_cancel_from_progress_keeps_the_part_file_for_later(hub, tmp_path):
    from qfinder.core.errors import CancelledError

    def stop(done: int, total: int, name: str) -> None:
        if name == "onnx/model.onnx_data" and done > 0:
            raise CancelledError("Download cancelled.")

    with pytest.raises(CancelledError):
        download_model("Qwen3-Embedding-0.6B", root=tmp_path, progress=stop)
    part = tmp_path / "Qwen3-Embedding-0.6B" / "onnx" / "model.onnx_data.part"
    assert part.is_file() and 0 < part.stat().st_size < len(hub.files["onnx/model.onnx_data"])
    folder = download_model("Qwen3-Embedding-0.6B", root=tmp_path)
    assert (folder / "onnx" / "model.onnx_data").read_bytes() == hub.files["onnx/model.onnx_data"]


def test_offline_gives_a_clear_download_error(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(DownloadError, match="offline") as caught:
        download_model("Qwen3-Embedding-0.6B", root=tmp_path)
    assert "resumes" in caught.value.hint


def test_unreachable_hub_gives_a_clear_download_error(tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    with pytest.raises(DownloadError, match="Cannot download"):
        download_model("Qwen3-Embedding-0.6B", root=tmp_path)


def test_unknown_model_and_locally_made_variant(hub, tmp_path):
    from qfinder.core.errors import ModelError

    with pytest.raises(ModelError, match="Unknown model"):
        download_model("No-Such-Model", root=tmp_path)
    with pytest.raises(DownloadError, match="made locally") as caught:
        download_model("Qwen3-Embedding-0.6B", "int8", root=tmp_path)
    assert "qfinder models optimize" in caught.value.hint


def test_repo_not_on_the_hub(hub, tmp_path):
    with pytest.raises(DownloadError, match="not found"):
        download_model("Qwen3-Embedding-8B", root=tmp_path)
