"""How the engine runs one job: never fatal, always reported; and which search is the newest."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from qfinder.core.errors import CancelledError, QfinderError

log = logging.getLogger(__name__)


class LatestSearch:
    """The newest search id the client has issued; older queued searches are skipped.

    Written by the GUI thread, read by the engine thread: a single int attribute, so no lock.
    """

    def __init__(self) -> None:
        self.latest = 0


def run_guarded(what: str, job: Callable[[], None], report: Callable[[str], None]) -> bool:
    """Run one job; an exception is logged with its traceback and reported, never raised.

    A cancellation (shutdown stopping an inference) is expected and only logged.
    Returns True when the job finished.
    """
    try:
        job()
        return True
    except CancelledError:
        log.info("%s cancelled", what)
    except QfinderError as exc:
        log.warning("%s failed: %s", what, exc)
        report(f"{what} failed: {exc}")
    except Exception as exc:
        log.error("%s failed:\n%s", what, traceback.format_exc())
        report(f"{what} failed: {exc}")
    return False
