"""`qfinder --install-desktop-entry`: install the launcher, icons and metainfo for this user.

Files go under $XDG_DATA_HOME (default ~/.local/share): applications/qfinder.desktop,
icons/hicolor/<n>x<n>/apps/qfinder.png, icons/hicolor/scalable/apps/qfinder.svg and
metainfo/. The launcher's Exec points at the running qfinder so it works from a venv too.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

log = logging.getLogger(__name__)
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
METAINFO = "io.github.qfinder.metainfo.xml"


def resources_dir() -> Path:
    """The resources folder: beside the package in a checkout, or where the wheel put its data files."""
    here = Path(__file__).resolve()
    installed = Path(sys.prefix) / "share" / "qfinder"
    for candidate in (here.parents[2] / "resources", installed):
        if (candidate / "qfinder.desktop").is_file():
            return candidate
    raise FileNotFoundError("qfinder's resources folder (icons, .desktop file) is missing")


def icon_path(size: int | None = None) -> Path | None:
    try:
        base = resources_dir()
    except FileNotFoundError:
        return None
    path = base / "icons" / f"qfinder-{size}.png" if size else base / "qfinder.svg"
    return path if path.is_file() else None


def xdg_data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def launcher_command() -> str:
    """The command the menu should run: the qfinder script if found, else this Python -m qfinder."""
    script = shutil.which("qfinder")
    if script:
        return shlex.quote(script)
    return f"{shlex.quote(sys.executable)} -m qfinder"


def desktop_text(template: str, command: str) -> str:
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            line = f"Exec={command} %U"
        elif line.startswith("TryExec="):
            continue  # TryExec cannot hold "python -m"; Exec is absolute anyway
        lines.append(line)
    return "\n".join(lines) + "\n"


def install(data_home: Path | None = None) -> list[Path]:
    """Copy the launcher, icons and metainfo; returns the files written."""
    source = resources_dir()
    home = data_home or xdg_data_home()
    written: list[Path] = []
    apps = home / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    desktop = apps / "qfinder.desktop"
    desktop.write_text(desktop_text((source / "qfinder.desktop").read_text(), launcher_command()))
    written.append(desktop)
    for size in ICON_SIZES:
        target = home / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "qfinder.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / "icons" / f"qfinder-{size}.png", target)
        written.append(target)
    scalable = home / "icons" / "hicolor" / "scalable" / "apps" / "qfinder.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / "qfinder.svg", scalable)
    written.append(scalable)
    metainfo = home / "metainfo" / METAINFO
    metainfo.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source / METAINFO, metainfo)
    written.append(metainfo)
    _refresh_caches(home)
    return written


def _refresh_caches(home: Path) -> None:
    """Ask the desktop to notice the new files; optional tools, failures are harmless."""
    for argv in (["update-desktop-database", str(home / "applications")],
                 ["gtk-update-icon-cache", "-q", "-t", str(home / "icons" / "hicolor")]):
        if shutil.which(argv[0]):
            try:
                subprocess.run(argv, check=False, capture_output=True, timeout=20)  # noqa: S603
            except (OSError, subprocess.SubprocessError) as exc:
                log.info("%s failed: %s", argv[0], exc)
