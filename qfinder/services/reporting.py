"""What the engine reports: folder states (catalog + watcher + engine) and the engine status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from qfinder.core.library.library import Library
from qfinder.core.state import EngineState, EngineStatus, RootAvailability, RootState


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


def make_status(core: Library | None, state: EngineState, message: str,
                building_dim: int | None) -> EngineStatus:
    if building_dim is not None and state in ("idle", "indexing"):
        message = f"Building the {building_dim}-d index…"
    return EngineStatus(
        state=state,
        model_name=core.model_name if core else None,
        provider=core.provider if core else None,
        dim=core.dim if core else None,
        message=message,
        model=core.model_summary if core else None,
        index_memory_bytes=core.index_memory_bytes() if core else None,
        config=core.config if core else None,
        opening=core.model_opening if core else None,
    )
