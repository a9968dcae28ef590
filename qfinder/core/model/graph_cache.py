"""onnxruntime's optimized graph of a model, written once per model, runtime and CPU.

Most of opening a model is not reading it: on the 0.6B fp32 model, pre-packing the weights for
the CPU's matrix kernels took 3.4 of a 4.2 s open, graph optimizations most of the rest. The
first open on the CPU provider therefore saves the optimized graph with its pre-packed weights
in an external data file (`session.save_external_prepacked_constant_initializers`); later opens,
and the first one right after saving, load that with optimizations off and memory-map the weights
instead of copying them to the heap (file-backed pages the OS can drop when the model idles).

Pre-packed layouts depend on the CPU's instruction set and on the runtime version, so an entry is
keyed by both, and by the model files' sizes and mtimes: a changed model gets a new entry and the
old one is deleted. The cost is disk: about the model's weights once more plus their packed copy.
"""

from __future__ import annotations

import hashlib
import logging
import os
import platform
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

GRAPH = "model.onnx"
DATA = "model.onnx.data"
SOURCE = "source.txt"  # the source graph's path: finds the entries a changed model left behind
STALE_PARTIAL_S = 3600.0  # a partial write this old was interrupted (a write takes seconds)
DISK_MARGIN = 2.5  # free space wanted, in multiples of the model's size (weights + packed copy)


@dataclass(frozen=True)
class GraphEntry:
    folder: Path  # <cache>/<key>
    source: Path  # the model's own graph file

    @property
    def graph(self) -> Path:
        return self.folder / GRAPH

    @property
    def ready(self) -> bool:
        return (self.folder / SOURCE).is_file() and self.graph.is_file()

    def size_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.folder.iterdir()) if self.folder.is_dir() else 0


def entry_for(cache_dir: Path, onnx_path: Path, runtime_version: str) -> GraphEntry:
    digest = hashlib.sha1(usedforsecurity=False)
    for part in (runtime_version, cpu_identity(), *_file_facts(onnx_path)):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    return GraphEntry(cache_dir / digest.hexdigest()[:20], onnx_path.resolve())


def has_room(entry: GraphEntry) -> bool:
    """Whether the disk holds another copy of the weights and their packed form."""
    needed = DISK_MARGIN * model_bytes(entry.source)
    entry.folder.parent.mkdir(parents=True, exist_ok=True)
    return shutil.disk_usage(entry.folder.parent).free > needed


def begin(entry: GraphEntry) -> Path:
    """A fresh folder for onnxruntime to write the entry into (one per writer: two processes
    opening the same model at once never write into each other's files)."""
    entry.folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=entry.folder.parent, prefix=f"{entry.folder.name}.partial-"))


def commit(entry: GraphEntry, partial: Path) -> None:
    """The written folder becomes the entry; entries of older versions of the same model and
    leftovers of interrupted writes are deleted (each holds gigabytes)."""
    (partial / SOURCE).write_text(str(entry.source), encoding="utf-8")
    try:
        os.replace(partial, entry.folder)
    except OSError:  # another process committed the same entry first: keep that one
        shutil.rmtree(partial, ignore_errors=True)
        return
    for other in entry.folder.parent.iterdir():
        if other.is_dir() and other != entry.folder and _stale(other, entry):
            shutil.rmtree(other, ignore_errors=True)


def discard(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def model_bytes(onnx_path: Path) -> int:
    return sum(p.stat().st_size for p in _model_files(onnx_path))


def cpu_identity() -> str:
    """The CPU model and its feature flags (Linux), else what the platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            wanted = [line for line in handle if line.startswith(("model name", "flags", "Features"))]
        return platform.machine() + "|" + "|".join(sorted(set(wanted)))
    except OSError:
        return f"{platform.machine()}|{platform.processor()}"


def _model_files(onnx_path: Path) -> list[Path]:
    return [onnx_path, *sorted(p for p in onnx_path.parent.glob(onnx_path.name + "_data*") if p.is_file())]


def _file_facts(onnx_path: Path) -> list[str]:
    facts = [str(onnx_path.resolve())]
    for path in _model_files(onnx_path):
        st = path.stat()
        facts.append(f"{path.name}:{st.st_size}:{st.st_mtime_ns}")
    return facts


def _stale(folder: Path, current: GraphEntry) -> bool:
    """An entry of the same model's older files, or an interrupted write of no one alive."""
    try:
        return (folder / SOURCE).read_text(encoding="utf-8") == str(current.source)
    except OSError:
        return ".partial-" in folder.name and time.time() - folder.stat().st_mtime > STALE_PARTIAL_S
