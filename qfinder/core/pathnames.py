"""File names that are not valid UTF-8, kept exact where they are used and readable where shown.

On POSIX a name is bytes; Python hands an undecodable byte over as a lone surrogate
(``os.fsdecode(b"bad\\xff")`` is ``"bad\\udcff"``), which opens the right file but cannot be
encoded as UTF-8: SQLite, JSON output and Qt (which silently drops it) all need care.

    readable_path(path)      # for people: U+FFFD for each undecodable byte
    is_exact_text(path)      # False when the path holds such bytes
    path_bytes(path)         # the name's real bytes
    sql_path(path)            # what the catalog binds (with CAST(? AS TEXT)) to store it exactly
    db_text_factory          # the catalog's text_factory that decodes it back
"""

from __future__ import annotations

import functools
import os
import re
import sys

_FS_ERRORS = sys.getfilesystemencodeerrors()  # surrogateescape on POSIX, surrogatepass on Windows
_SURROGATE = re.compile("[\ud800-\udfff]")

db_text_factory = functools.partial(str, encoding="utf-8", errors=_FS_ERRORS)


def is_exact_text(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def readable_path(path: str) -> str:
    return path if is_exact_text(path) else _SURROGATE.sub("\ufffd", path)


def path_bytes(path: str) -> bytes:
    return os.fsencode(path)


def sql_path(path: str) -> bytes:
    """The bytes the catalog stores for `path` (the SQL binds them with CAST(? AS TEXT)): SQLite
    keeps a name that is not valid UTF-8 exactly, and `db_text_factory` gives the same str back."""
    return path.encode("utf-8", _FS_ERRORS)
