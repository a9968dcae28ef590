"""Sizes for people: one format for the command line and the window.

Decimal units (1 kB = 1000 bytes), as GNOME Files and the macOS Finder show them, so a size
qfinder shows matches what the file manager beside it says."""

from __future__ import annotations

MB = 1000 * 1000  # the registry's model sizes are in these
_UNITS = ("kB", "MB", "GB", "TB")


def format_size(count: float) -> str:
    """'999 B', '1.0 kB', '3.4 MB', '2.4 GB': one decimal from a kilobyte up."""
    if count < 1000:
        return f"{count:.0f} B"
    value = count / 1000
    for unit in _UNITS[:-1]:
        if value < 999.95:  # 999,960 B is "1.0 MB", never "1000.0 kB"
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} {_UNITS[-1]}"
