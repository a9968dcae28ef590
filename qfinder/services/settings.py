"""Engine settings: plain frozen data the app reads from its config and hands to EngineClient."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineSettings:
    # How big one indexing step is: IndexSettings(step_files, step_tokens) and target_step_s,
    # given to LibraryOpener (a query waits for at most one step).
    # Rest this many times a step's duration after it: 0.0 = flat out; 1.0 = half speed; 2.0 = a third.
    throttle: float = 0.0
    # A query cancels the running step (redone after it) when recent steps took longer than this
    # (seconds; None: never): on a big model on CPU one step can take seconds.
    preempt_steps_longer_than_s: float | None = 0.5
    # Added to the engine thread's nice value on POSIX (0 = same priority as the window).
    nice: int = 10
    # Walk every root and compare with the catalog this often (0 = only at startup/after failures).
    reconcile_interval_s: float = 3600.0
    # Watcher debouncing: quiet period, and the longest a changing file waits to be re-indexed.
    quiet_s: float = 0.4
    max_delay_s: float = 5.0
    # How often the watcher's supervisor checks observers and roots; polled roots' interval.
    watch_check_s: float = 1.0
    polling_interval_s: float = 10.0
    # Re-send the folders' states (files indexed/queued) at most this often while indexing.
    roots_interval_s: float = 1.0
    # While another process holds the data folder's write lock: how often to check for its end.
    writer_poll_s: float = 5.0
    # An unreachable embedding server: indexing waits this long before trying again, doubling
    # (or as the server's Retry-After says) up to the longest wait.
    server_retry_s: float = 5.0
    server_retry_max_s: float = 300.0
    # Close the model after this long without an inference, giving its memory back (0 = never);
    # it reopens from the optimized-graph cache when next needed. Checked this often.
    model_idle_s: float = 600.0
    model_check_s: float = 30.0
    # Start watching the roots (tests and the one-shot CLI turn this off).
    watch: bool = True
