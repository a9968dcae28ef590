"""The extractor child process: ``python -m qfinder.core.extract.child --memory-bytes N``.

Reads one JSON request per line on stdin ({"path", "kind", "limits"}) and answers one JSON line
per request (after one {"ready": true} line once its imports are done): {"ok": true, "text", "pages", "truncated"} or {"ok": false, "reason"}. It caps its
own address space (RLIMIT_AS) and disables core dumps; the parent enforces the time limit by
killing it. Stray output of libraries goes to stderr so it cannot corrupt the protocol.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from qfinder.core.errors import ExtractionError
from qfinder.core.extract.builder import TextBuilder
from qfinder.core.extract.model import ExtractLimits

Extractor = Callable[[str, ExtractLimits, TextBuilder], None]
TEST_KINDS_ENV = "QFINDER_EXTRACT_TEST_KINDS"  # enables the _test_* kinds used by the test suite


def _extractors() -> dict[str, Extractor]:
    from qfinder.core.extract.office import extract_docx, extract_pptx, extract_xlsx
    from qfinder.core.extract.opendoc import extract_epub, extract_odt
    from qfinder.core.extract.pdf import extract_pdf

    table: dict[str, Extractor] = {
        "pdf": extract_pdf,
        "docx": extract_docx,
        "pptx": extract_pptx,
        "xlsx": extract_xlsx,
        "odt": extract_odt,
        "epub": extract_epub,
    }
    if os.environ.get(TEST_KINDS_ENV) == "1":
        table.update(
            {"_test_sleep": _test_sleep, "_test_crash": _test_crash, "_test_alloc": _test_alloc}
        )
    return table


def _test_sleep(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    time.sleep(3600)  # a hanging parser


def _test_crash(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    os.abort()  # a parser dying in native code


def _test_alloc(path: str, limits: ExtractLimits, out: TextBuilder) -> None:
    hog = bytearray(limits.memory_limit_bytes * 2)  # a parser exploding in memory
    out.add_block(str(len(hog)))


def cap_resources(memory_bytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits (see the package docs)
        return
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if memory_bytes > 0:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = memory_bytes if hard == resource.RLIM_INFINITY else min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def handle(request: dict[str, Any], extractors: dict[str, Extractor]) -> dict[str, Any]:
    limits = ExtractLimits(**request["limits"])
    kind = request["kind"]
    out = TextBuilder(limits.max_text_chars)
    try:
        extractor = extractors.get(kind)
        if extractor is None:
            raise ExtractionError(f"no child extractor for {kind!r}")
        extractor(request["path"], limits, out)
    except ExtractionError as exc:
        return {"ok": False, "reason": exc.message}
    except MemoryError:
        return {
            "ok": False,
            "reason": f"out of memory (cap {limits.memory_limit_bytes // 2**20} MiB)",
        }
    except RecursionError:
        return {"ok": False, "reason": "document structure nested too deeply"}
    except Exception as exc:  # any parser failure is charged to the file, not to the process
        return {"ok": False, "reason": f"unreadable {kind} ({type(exc).__name__}: {exc})"[:300]}
    return {"ok": True, "text": out.text(), "pages": out.page_marks(), "truncated": out.truncated}


def serve(requests: IO[str], replies: IO[str]) -> None:
    extractors = _extractors()
    replies.write(json.dumps({"ready": True}) + "\n")  # start-up is not charged to the first file
    replies.flush()
    for line in requests:
        if not line.strip():
            continue
        reply = handle(json.loads(line), extractors)
        del line
        replies.write(json.dumps(reply) + "\n")
        replies.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qfinder.core.extract.child")
    parser.add_argument("--memory-bytes", type=int, default=0)
    args = parser.parse_args(argv)
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # library chatter goes to stderr
    cap_resources(args.memory_bytes)
    serve(sys.stdin, protocol)
    return 0


if __name__ == "__main__":
    sys.exit(main())
