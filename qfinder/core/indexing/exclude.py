"""Which files and folders qfinder never indexes, shared by the walker and the watcher.

The same predicates serve a full walk (``qfinder.core.indexing.walk``) and a single watcher event
(``is_excluded``), so a file skipped by one is skipped by the other.

Default exclusions: hidden names (leading dot, or the Windows hidden attribute) below a root,
version-control and tool folders (``.git``, ``node_modules``, ``__pycache__``, caches), secrets
(``.ssh``, ``.gnupg``; excluded even when hidden files are included), virtualenvs (a folder
holding ``pyvenv.cfg``), cache folders tagged with ``CACHEDIR.TAG``, any folder holding a
``.noindex`` marker, ``.gitignore`` files inside the root, and the user's own globs
(gitignore syntax, relative to the root). ``skip_folders`` are absolute folders never indexed
wherever they appear, e.g. qfinder's own data folder inside an indexed root (`Library` adds it).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import pathspec

from qfinder.core.paths import is_within

# Folders never worth indexing: VCS metadata, dependency trees, build and tool caches.
EXCLUDED_DIR_NAMES = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".bzr",
        "node_modules",
        "__pycache__",
        ".cache",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".venv",
        ".gradle",
        ".terraform",
        ".ipynb_checkpoints",
        "$RECYCLE.BIN",
        "System Volume Information",
        ".Trash",
    }
)
# Secrets: excluded even when the user asks for hidden files.
SECRET_DIR_NAMES = frozenset({".ssh", ".gnupg", ".password-store"})
# A folder holding one of these files is skipped with everything below it.
NOINDEX_MARKER = ".noindex"
DIR_MARKERS = frozenset({NOINDEX_MARKER, "pyvenv.cfg", "CACHEDIR.TAG"})
GITIGNORE = ".gitignore"
_WIN_HIDDEN = 0x2  # stat.FILE_ATTRIBUTE_HIDDEN, spelled out so POSIX type checkers agree


@dataclass(frozen=True)
class ExcludeRules:
    """What to skip. ``globs`` use gitignore syntax relative to each root (``*.log``, ``build/``)."""

    include_hidden: bool = False
    globs: tuple[str, ...] = ()
    honour_gitignore: bool = True
    skip_folders: tuple[str, ...] = ()  # absolute paths, with everything below them

    def skips(self, path: str) -> bool:
        """Is ``path`` (absolute) one of ``skip_folders`` or below one?"""
        return any(is_within(path, folder) for folder in self.skip_folders)


DEFAULT_RULES = ExcludeRules()


def is_hidden(name: str, st: os.stat_result | None = None) -> bool:
    """A dot-name, or (on Windows) a file with the hidden attribute."""
    if name.startswith("."):
        return True
    attributes = getattr(st, "st_file_attributes", 0) if st is not None else 0
    return bool(attributes & _WIN_HIDDEN)


def name_excluded(
    name: str, is_dir: bool, rules: ExcludeRules, st: os.stat_result | None = None
) -> bool:
    """Exclusion decided by the name alone (and the hidden attribute)."""
    if is_dir and (
        name in EXCLUDED_DIR_NAMES or name in SECRET_DIR_NAMES or name.startswith(".Trash-")
    ):
        return True
    return not rules.include_hidden and is_hidden(name, st)


def markers_exclude(names_in_dir: Iterable[str]) -> bool:
    """True when a folder's listing holds ``.noindex``, ``pyvenv.cfg`` or ``CACHEDIR.TAG``."""
    return not DIR_MARKERS.isdisjoint(names_in_dir)


@lru_cache(maxsize=64)
def user_spec(globs: tuple[str, ...]) -> pathspec.PathSpec | None:
    return pathspec.GitIgnoreSpec.from_lines(globs) if globs else None


@lru_cache(maxsize=512)
def _gitignore_spec_cached(path: str, size: int, mtime_ns: int) -> pathspec.PathSpec | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = handle.read(1_000_000).splitlines()
    except OSError:
        return None
    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return spec if len(spec) else None


def load_gitignore(folder: str) -> pathspec.PathSpec | None:
    """The parsed ``.gitignore`` of a folder (cached by size and mtime), or None."""
    path = os.path.join(folder, GITIGNORE)
    try:
        st = os.stat(path)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    return _gitignore_spec_cached(path, st.st_size, st.st_mtime_ns)


GitignoreStack = Sequence[tuple[str, pathspec.PathSpec]]  # (folder the file lives in, its spec)


def ignored_by_specs(
    path: str, is_dir: bool, root: str, stack: GitignoreStack, rules: ExcludeRules
) -> bool:
    """Gitignore and user-glob verdict for ``path``; the deepest ``.gitignore`` with a verdict wins."""
    suffix = "/" if is_dir else ""
    for base, spec in reversed(stack):
        verdict = spec.check_file(_relative(path, base) + suffix).include
        if verdict is not None:
            if verdict:
                return True
            break
    globs = user_spec(rules.globs)
    return globs is not None and globs.match_file(_relative(path, root) + suffix)


def _relative(path: str, base: str) -> str:
    """``path`` relative to ``base`` in gitignore's "/" form (path is below base: no relpath cost)."""
    if path.startswith(base) and path[len(base) : len(base) + 1] == os.sep:
        relative = path[len(base) + 1 :]
    else:
        relative = os.path.relpath(path, base)
    return relative if os.sep == "/" else relative.replace(os.sep, "/")


def is_excluded(
    path: str | os.PathLike[str], root: str | os.PathLike[str], rules: ExcludeRules = DEFAULT_RULES
) -> bool:
    """Would a walk of ``root`` skip ``path``? For single watcher events.

    True for paths outside the root, below an excluded folder, matching an ignore rule, for
    symlinks or paths through a symlinked folder (the walk never follows links), and for anything that exists but is neither a regular file
    nor a folder (FIFOs, sockets, devices). A path that no longer exists is judged by name and
    rules only, so deletions of indexed files still get through.
    """
    root_s = os.path.abspath(os.fspath(root))
    path_s = os.path.abspath(os.fspath(path))
    if rules.skips(path_s):
        return True
    if not is_within(path_s, root_s) or path_s == root_s:
        return path_s != root_s
    stack: list[tuple[str, pathspec.PathSpec]] = []
    folder = root_s
    parts = os.path.relpath(path_s, root_s).split(os.sep)
    for depth, part in enumerate(parts):
        if rules.honour_gitignore and (spec := load_gitignore(folder)) is not None:
            stack.append((folder, spec))
        current = os.path.join(folder, part)
        is_last = depth == len(parts) - 1
        st = _lstat(current)
        is_dir = (not is_last) or (st is not None and stat.S_ISDIR(st.st_mode))
        if name_excluded(part, is_dir, rules, st) or ignored_by_specs(
            current, is_dir, root_s, stack, rules
        ):
            return True
        if is_dir and _has_marker(current):
            return True
        folder = current
    st = _lstat(path_s)
    return st is not None and _unsafe_target(path_s, st, root_s)


def _lstat(path: str) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except OSError:
        return None


def _has_marker(folder: str) -> bool:
    return any(os.path.lexists(os.path.join(folder, marker)) for marker in DIR_MARKERS)


def _unsafe_target(path: str, st: os.stat_result, root: str) -> bool:
    """Symlinks (the path itself or a folder on the way from the root) are never followed, and
    anything not a plain file or folder is never touched: the walk's rules exactly."""
    relative = os.path.relpath(path, root)
    if os.path.realpath(path) != os.path.join(os.path.realpath(root), relative):
        return True
    return not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode))
