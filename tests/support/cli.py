"""Run the real command line in-process, as the CLI tests do."""

from __future__ import annotations

from qfinder.cli import run


def cli(capsys, *argv):
    """(exit code, stdout, stderr) of `qfinder ARGV...`."""
    code = run([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err
