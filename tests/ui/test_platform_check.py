"""Before the window: a missing display or missing xcb libraries get one clear line, never an abort."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qfinder.ui import platform_check

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")

REPO = Path(__file__).resolve().parents[2]

# `ldd libqxcb.so` of PySide6 6.11 on a Debian 12 desktop without libxcb-icccm4/libxcb-keysyms1
# (trimmed; ldd repeats a missing library for every object that needs it)
REAL_LDD = """\
\tlinux-vdso.so.1 (0x00007f1d0228a000)
\tlibQt6XcbQpa.so.6 => /venv/PySide6/Qt/plugins/platforms/../../lib/libQt6XcbQpa.so.6 (0x00007f1d021bc000)
\tlibxkbcommon-x11.so.0 => /lib/x86_64-linux-gnu/libxkbcommon-x11.so.0 (0x00007f1d0211f000)
\tlibxcb-cursor.so.0 => /lib/x86_64-linux-gnu/libxcb-cursor.so.0 (0x00007f1d02118000)
\tlibxcb-icccm.so.4 => not found
\tlibxcb-util.so.1 => /lib/x86_64-linux-gnu/libxcb-util.so.1 (0x00007f1d02110000)
\tlibxcb-keysyms.so.1 => not found
\tlibxcb-icccm.so.4 => not found
\tlibxcb-keysyms.so.1 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f9523e7c000)
"""

HEADLESS = {"PATH": os.environ.get("PATH", "")}


def test_ldd_output_names_each_missing_library_once():
    assert platform_check.not_found(REAL_LDD) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert platform_check.not_found("\tlibc.so.6 => /lib/libc.so.6 (0x1)\n") == []


def test_the_message_names_the_libraries_and_the_install_commands():
    message = platform_check.missing_libraries_message(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    assert "\n" not in message
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in message
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in message
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms" in message
    assert "libxcb-cursor" not in message  # Qt's own message blames it whatever is missing


def test_package_names_follow_each_distribution():
    sonames = ["libxkbcommon-x11.so.0", "libX11-xcb.so.1", "libxcb-randr.so.0", "libfoo.so.2"]
    assert platform_check.debian_packages(sonames) == [
        "libxkbcommon-x11-0", "libx11-xcb1", "libxcb-randr0", "libfoo2"]
    assert platform_check.fedora_packages(sonames) == [
        "libxkbcommon-x11", "libX11-xcb", "libxcb", "'libfoo.so.2()(64bit)'"]


@pytest.fixture
def stub_plugin(tmp_path):
    """A plugin linked against a library that is gone since: what ldd sees on such a desktop."""
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd")
    source = tmp_path / "stub.c"
    source.write_text("int stub(void) { return 0; }\n")
    gone = tmp_path / "libqfinder-gone.so.3"
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", gone, "-Wl,-soname,libqfinder-gone.so.3",
                    source], check=True)
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", plugin, source, "-Wl,--no-as-needed", gone],
                   check=True)
    gone.unlink()
    return plugin


def test_a_library_the_plugin_links_to_is_found_missing(stub_plugin):
    missing = platform_check.missing_xcb_libraries(stub_plugin, dlopened=("libc.so.6",))
    assert missing == ["libqfinder-gone.so.3"]


def test_a_library_qt_loads_later_is_checked_too(stub_plugin):
    missing = platform_check.missing_xcb_libraries(stub_plugin, dlopened=("libqfinder-absent.so.0",))
    assert missing == ["libqfinder-gone.so.3", "libqfinder-absent.so.0"]


def test_an_x11_desktop_missing_libraries_is_explained(stub_plugin):
    problem = platform_check.desktop_problem({"DISPLAY": ":0"}, stub_plugin)
    assert problem is not None and "libqfinder-gone.so.3" in problem and "sudo apt install" in problem


def test_which_environments_need_which_checks(stub_plugin):
    def problem(**environ: str) -> str | None:
        return platform_check.desktop_problem(environ, stub_plugin)

    assert "no graphical display" in (problem() or "")
    assert "no graphical display" in (problem(QT_QPA_PLATFORM="xcb", WAYLAND_DISPLAY="w") or "")
    assert problem(QT_QPA_PLATFORM="offscreen") is None  # Qt needs no display for these
    assert problem(QT_QPA_PLATFORM="vnc:size=800x600") is None
    assert problem(WAYLAND_DISPLAY="wayland-0") is None  # Qt tries Wayland first: no xcb needed
    assert problem(WAYLAND_DISPLAY="wayland-0", QT_QPA_PLATFORM="xcb", DISPLAY=":0") is not None
    assert problem(DISPLAY=":0", QT_QPA_PLATFORM="wayland;xcb") is not None


def test_starting_without_a_display_says_so_and_exits_1(tmp_path):
    environ = {**HEADLESS, "PYTHONPATH": str(REPO), "QFINDER_DATA_DIR": str(tmp_path / "data"),
               "QFINDER_CONFIG_DIR": str(tmp_path / "config"), "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "qfinder", "--no-setup"], env=environ, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("qfinder: no graphical display") and done.stderr.count("\n") == 1
    assert not (tmp_path / "data").exists()  # stopped before touching anything
