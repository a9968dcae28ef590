"""Filesystem watching (watchdog adapter, no Qt): observer + handler + debouncer -> callback(batch)."""
