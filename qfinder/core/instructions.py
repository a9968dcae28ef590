"""Task instructions for instructed queries: named presets plus free custom text.

Qwen3-Embedding formats a query as ``"Instruct: {task}\\nQuery:" + text``; the Embedder does the
formatting, this module only decides *which* task text a query carries. ``None`` means "the
model's own default" (for Qwen3 the web-search task; models that are not instruction-aware ignore
instructions altogether).

Public API::

    PRESETS: tuple[TaskPreset, ...]            # in the order a front end lists them
    resolve_instruction(choice) -> str | None   # preset key, custom text, or None / "" / "default"
"""

from __future__ import annotations

from dataclasses import dataclass

TOPIC_TASK = "Given a topic, retrieve documents that discuss this topic"
CODE_TASK = "Given a code search query, retrieve relevant code snippets"
SIMILAR_TASK = "Given a description of a file, retrieve files whose content matches the description"


@dataclass(frozen=True)
class TaskPreset:
    key: str  # stable identifier used by settings and the CLI
    label: str  # short human label for menus
    instruction: str | None  # None: the model's default task


PRESETS: tuple[TaskPreset, ...] = (
    TaskPreset("web", "Answer a question (model default)", None),
    TaskPreset("topic", "Find documents about a topic", TOPIC_TASK),
    TaskPreset("code", "Find code", CODE_TASK),
    TaskPreset("similar", "Find files matching a description", SIMILAR_TASK),
)

_BY_KEY = {p.key: p for p in PRESETS}
_DEFAULT_WORDS = {"", "default", "web"}


def resolve_instruction(choice: str | None) -> str | None:
    """The task text to send with a query.

    A preset key gives that preset's text, ``None``/empty/"default" gives the model default
    (``None``), anything else is taken as custom task text, stripped.
    """
    if choice is None:
        return None
    cleaned = choice.strip()
    if cleaned.lower() in _DEFAULT_WORDS:
        return None
    found = _BY_KEY.get(cleaned.lower())
    return found.instruction if found else cleaned
