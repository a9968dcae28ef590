"""Fetch one variant of a registry model from the Hugging Face Hub into qfinder's models folder.

Files land as real files under ``models_dir()/<name>[-<variant>]`` (never the Hub cache's
symlinks, which some onnxruntime versions refuse for external data). Multi-GB files must survive
a closed laptop: each file is written to ``<file>.part`` and an interrupted download, even in a
later run, continues with an HTTP Range request (huggingface_hub ≥ 1.x itself restarts from zero).
The Hub is reached through huggingface_hub (model info, URLs, auth headers, its HTTP session and
error mapping, offline switch). HF_ENDPOINT is read at call time, so a mirror (or a local
stand-in in tests) can be used without restarting.

`model_folders()` says which folders of the models folder hold a whole model and which are
partial (an unfinished .part file, missing weights, nothing at all) with the command that
resumes them: a folder counts as whole only when `find_model_folder` accepts it.
"""

from __future__ import annotations

import fnmatch
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import HfApi, constants, hf_hub_url
from huggingface_hub import errors as hf_errors
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from qfinder.core.errors import DownloadError, ModelError, QfinderError
from qfinder.core.model.folder import find_model_folder
from qfinder.core.model.registry import COMMON_FILES, ModelSpec, find_spec, spec_for_folder_name
from qfinder.core.paths import models_dir

log = logging.getLogger(__name__)

# progress(done_bytes, total_bytes, current_file)
Progress = Callable[[int, int, str], None]
OFFLINE_HINT = ("Connect to the internet (or set HF_ENDPOINT to a mirror) and try again; the download "
                "resumes where it stopped. Or copy a model folder by hand and choose it in Settings.")


def target_folder(spec: ModelSpec, variant: str, root: Path | None = None) -> Path:
    base = root or models_dir()
    return base / (spec.name if variant == "fp32" else f"{spec.name}-{variant}")


def download_model(name: str, variant: str | None = None, root: Path | None = None,
                   progress: Progress | None = None, endpoint: str | None = None) -> Path:
    """Download `name`'s `variant` (default: its first) and return the model folder."""
    spec = find_spec(name)
    chosen = spec.variant(variant)
    if chosen.made_locally:
        raise DownloadError(f"The {chosen.name} variant of {spec.name} is not downloaded, it is made locally.",
                            f"Download fp32, then run `qfinder models optimize {target_folder(spec, 'fp32', root)}`.")
    endpoint = endpoint or os.environ.get("HF_ENDPOINT") or None
    dest = target_folder(spec, chosen.name, root)
    files = _files_to_fetch(spec, chosen.patterns, endpoint)  # before any folder: a failed listing leaves none
    dest.mkdir(parents=True, exist_ok=True)
    total = sum(size for _, size in files)
    done = 0
    for filename, size in files:
        report = _reporter(progress, done, total, filename)
        _fetch_one(hf_hub_url(spec.repo, filename, endpoint=endpoint), dest / filename, size, report)
        done += size
    log.info("downloaded %s (%s) to %s: %d files, %d bytes", spec.name, chosen.name, dest, len(files), total)
    return dest


@dataclass(frozen=True)
class FolderState:
    """One folder of the models folder: a whole model, or why not and how to resume it."""

    name: str
    problem: str = ""  # "" when the folder holds a whole, loadable model
    resume: str | None = None  # the command that resumes a partial download of a known model

    @property
    def complete(self) -> bool:
        return not self.problem


def model_folders(root: Path | None = None) -> list[FolderState]:
    base = root or models_dir()
    return [folder_state(p) for p in sorted(base.iterdir()) if p.is_dir()] if base.is_dir() else []


def folder_state(folder: Path) -> FolderState:
    problem = _missing_part(folder)
    return FolderState(folder.name, problem, _resume_command(folder.name) if problem else None)


def _missing_part(folder: Path) -> str:
    unfinished = sorted(folder.rglob("*.part"))
    if unfinished:
        return f"{unfinished[0].relative_to(folder).as_posix()} is unfinished"
    if not any(folder.iterdir()):
        return "empty"
    try:
        find_model_folder(folder)  # graph readable, every weights file there and whole
    except ModelError as exc:
        return exc.message.rstrip(".")
    return ""


def _resume_command(folder_name: str) -> str | None:
    """The download that fills this folder again (folders are named by `target_folder`)."""
    spec = spec_for_folder_name(folder_name)
    if spec is None:
        return None
    variant = folder_name[len(spec.name):].lstrip("-") or "fp32"
    if variant not in {v.name for v in spec.variants if not v.made_locally}:
        return None
    default = spec.variants[0].name
    return f"qfinder models download {spec.name}" + ("" if variant == default else f" --variant {variant}")


def _files_to_fetch(spec: ModelSpec, patterns: tuple[str, ...], endpoint: str | None) -> list[tuple[str, int]]:
    try:
        info = HfApi(endpoint=endpoint).model_info(spec.repo, files_metadata=True)
    except Exception as exc:  # huggingface_hub/httpx raise many types; all mean "could not list"
        raise _download_error(spec.repo, exc) from exc
    siblings = [(s.rfilename, int(s.size or 0)) for s in (info.siblings or [])]
    wanted = [(f, size) for f, size in siblings
              if f in COMMON_FILES or any(fnmatch.fnmatch(f, p) for p in patterns)]
    if not any(f.endswith(".onnx") for f, _ in wanted):
        raise DownloadError(f"{spec.repo} has no file matching {', '.join(patterns)}.",
                            "The repository layout may have changed; pick another variant with --variant.")
    return wanted


def _reporter(progress: Progress | None, before: int, total: int, filename: str) -> Callable[[int], None]:
    def report(got: int) -> None:
        if progress is not None:
            progress(before + got, total, filename)
    return report


def _fetch_one(url: str, target: Path, size: int, on_bytes: Callable[[int], object]) -> None:
    if target.is_file() and (size == 0 or target.stat().st_size == size):
        on_bytes(size)
        return  # already complete
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    if size and have >= size:
        have = 0  # stale or oversized leftover: start again
    try:
        _stream_to(url, part, have, on_bytes)
    except QfinderError:
        raise  # includes a CancelledError raised by the caller's progress callback; .part is kept
    except Exception as exc:  # huggingface_hub/httpx raise many types; all mean "could not fetch"
        raise _download_error(target.name, exc) from exc
    if size and part.stat().st_size != size:
        raise DownloadError(f"{target.name} arrived incomplete ({part.stat().st_size} of {size} bytes).",
                            "Run the download again; it continues where it stopped.")
    os.replace(part, target)


def _stream_to(url: str, part: Path, have: int, on_bytes: Callable[[int], object]) -> None:
    headers = build_hf_headers()
    headers["Accept-Encoding"] = "identity"  # sizes and ranges refer to the raw bytes
    if have:
        headers["Range"] = f"bytes={have}-"
    with get_session().stream("GET", url, headers=headers, follow_redirects=True) as response:
        if response.status_code >= 400:
            response.read()
            hf_raise_for_status(response)
        resumed = have and response.status_code == 206
        got = have if resumed else 0
        with part.open("ab" if resumed else "wb") as sink:
            for chunk in response.iter_bytes():  # as received: a dropped link keeps what came
                sink.write(chunk)
                got += len(chunk)
                on_bytes(got)


def _download_error(what: str, exc: BaseException) -> DownloadError:
    if constants.is_offline_mode() or isinstance(exc, hf_errors.OfflineModeIsEnabled):
        return DownloadError(f"Cannot download {what}: offline mode is on (HF_HUB_OFFLINE).", OFFLINE_HINT)
    if isinstance(exc, (hf_errors.RepositoryNotFoundError, hf_errors.RevisionNotFoundError)):
        return DownloadError(f"{what} was not found on the Hub.",
                             "Check the model name (`qfinder models list`); private repos need `hf auth login`.")
    if isinstance(exc, hf_errors.EntryNotFoundError):
        return DownloadError(f"{what} was not found on the Hub.", "Pick another variant with --variant.")
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError) and "space" in str(exc).lower():
        return DownloadError(f"Cannot write {what}: {exc}.", "Free some disk space and try again; it resumes.")
    return DownloadError(f"Cannot download {what} ({type(exc).__name__}: {exc}).", OFFLINE_HINT)
