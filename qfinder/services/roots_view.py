"""Merge what the catalog knows about roots with what the watcher and the engine are doing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from qfinder.core.state import RootAvailability, RootState


def merge_root_states(
    states: tuple[RootState, ...], watch_modes: Mapping[str, str], paused: bool
) -> tuple[RootState, ...]:
    """The availability a person should see: unavailable > paused > indexing > watching/polling."""
    merged = []
    for state in states:
        mode = watch_modes.get(state.path)
        availability: RootAvailability = state.availability
        if mode == "unavailable" or availability == "unavailable":
            availability = "unavailable"
        elif paused and state.files_pending:
            availability = "paused"
        elif state.files_pending:
            availability = "indexing"
        elif mode == "polling":
            availability = "polling"
        elif mode == "watching":
            availability = "watching"
        merged.append(replace(state, availability=availability))
    return tuple(merged)
