"""Can Qt open a window here? Asked before the QApplication exists, because after that it is
too late: on Linux, Qt aborts the process (a core dump) when no platform plugin starts, and its
message always blames libxcb-cursor0, whichever libraries are really missing.

Only QtCore is used (to find the plugin folder the way Qt does), never QtGui or QtWidgets.
"""

from __future__ import annotations

import ctypes
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

# Qt 6.5+ loads it with dlopen, so ldd on older plugins does not list it
DLOPENED = ("libxcb-cursor.so.0",)
NO_DISPLAY = ("no graphical display to open the window on (DISPLAY for X11, WAYLAND_DISPLAY for "
              "Wayland): start qfinder in a desktop session, or use the command line (qfinder --help)")
# Fedora names packages by project, not by library; anything else falls back to an RPM
# "provides" name, which dnf resolves to whatever package ships that library.
FEDORA = {
    "libxcb-cursor.so.0": "xcb-util-cursor", "libxcb-icccm.so.4": "xcb-util-wm",
    "libxcb-keysyms.so.1": "xcb-util-keysyms", "libxcb-image.so.0": "xcb-util-image",
    "libxcb-render-util.so.0": "xcb-util-renderutil", "libxcb-util.so.1": "xcb-util",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11", "libxkbcommon.so.0": "libxkbcommon",
    "libX11-xcb.so.1": "libX11-xcb",
}
NOT_FOUND = re.compile(r"^\s*(\S+) => not found\s*$", re.MULTILINE)
SONAME = re.compile(r"^(lib.+)\.so\.(\d+)")


def desktop_problem(environ: Mapping[str, str], xcb_plugin: Path | None = None) -> str | None:
    """One line saying why Qt cannot open a window in this environment, or None."""
    if not sys.platform.startswith("linux"):
        return None
    platforms = requested_platforms(environ)
    if not all(_display_variable(name) for name in platforms):
        return None  # offscreen, vnc, eglfs…: Qt needs no desktop for them (or falls back to them)
    reachable = [name for name in platforms if environ.get(_display_variable(name))]
    if not reachable:
        return NO_DISPLAY
    if reachable[0] != "xcb":
        return None  # a Wayland compositor answers first: the xcb libraries do not matter
    missing = missing_xcb_libraries(xcb_plugin or default_xcb_plugin())
    return missing_libraries_message(missing) if missing else None


def requested_platforms(environ: Mapping[str, str]) -> list[str]:
    """The plugins Qt tries, in order: QT_QPA_PLATFORM ("wayland;xcb", "vnc:size=…"), else
    Wayland when a compositor is announced, then xcb (what PySide6 6.11 does)."""
    chosen = [name.split(":")[0].strip() for name in environ.get("QT_QPA_PLATFORM", "").split(";")]
    if any(chosen):
        return [name for name in chosen if name]
    return ["wayland", "xcb"] if environ.get("WAYLAND_DISPLAY") else ["xcb"]


def _display_variable(platform: str) -> str:
    if platform == "xcb":
        return "DISPLAY"
    return "WAYLAND_DISPLAY" if platform.startswith("wayland") else ""


def default_xcb_plugin() -> Path:
    from PySide6.QtCore import QLibraryInfo

    plugins = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)
    return Path(plugins) / "platforms" / "libqxcb.so"


def missing_xcb_libraries(plugin: Path, dlopened: Sequence[str] = DLOPENED) -> list[str]:
    """Libraries the xcb plugin needs that the dynamic loader cannot find ([] when unsure)."""
    missing = not_found(_ldd(plugin))
    for name in dlopened:
        try:
            ctypes.CDLL(name)
        except OSError:
            missing.append(name)
    return missing


def _ldd(plugin: Path) -> str:
    ldd = shutil.which("ldd")
    if ldd is None or not plugin.is_file():
        return ""  # cannot tell: let Qt try and speak for itself
    done = subprocess.run([ldd, str(plugin)], capture_output=True, text=True, timeout=30)
    return done.stdout


def not_found(ldd_output: str) -> list[str]:
    """Each library ldd could not resolve, once, in ldd's order."""
    return list(dict.fromkeys(NOT_FOUND.findall(ldd_output)))


def missing_libraries_message(sonames: Sequence[str]) -> str:
    return (f"the desktop app needs system libraries that are missing: {', '.join(sonames)}. "
            f"Install them (Debian/Ubuntu): sudo apt install {' '.join(debian_packages(sonames))}"
            f"; (Fedora): sudo dnf install {' '.join(fedora_packages(sonames))}")


def debian_packages(sonames: Sequence[str]) -> list[str]:
    """Debian policy 8.1 names a library package after its soname: libfoo.so.1 -> libfoo1, with a
    hyphen when the name ends in a digit (libxkbcommon-x11.so.0 -> libxkbcommon-x11-0)."""
    packages = []
    for soname in sonames:
        match = SONAME.match(soname)
        if match is None:
            continue
        name, version = match.group(1).lower(), match.group(2)
        packages.append(f"{name}-{version}" if name[-1].isdigit() else f"{name}{version}")
    return list(dict.fromkeys(packages))


def fedora_packages(sonames: Sequence[str]) -> list[str]:
    packages = []
    for soname in sonames:
        if soname in FEDORA:
            packages.append(FEDORA[soname])
        elif soname.startswith("libxcb"):
            packages.append("libxcb")  # the core protocol libraries (randr, shm, xkb…) ship together
        else:
            packages.append(f"'{soname}()(64bit)'")
    return list(dict.fromkeys(packages))
