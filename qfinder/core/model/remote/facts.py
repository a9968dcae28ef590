"""What qfinder knows about a configured server, kept so a library opens without the network.

    cache = FactsCache(data_dir / "model-cache")
    facts = cache.get(url, api, model)     # ServerFacts or None (never connected yet)
    cache.put(url, api, model, facts)

The facts fix the model id the index is stamped with and the vector size: they are learnt on the
first connection and then only checked (a server that later reports another model is stopped,
not followed). Limits learnt from refusals (a smaller batch, a shorter input) are kept too.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from qfinder.core.model.remote.urls import server_address
from qfinder.core.paths import read_json_object, write_atomic

log = logging.getLogger(__name__)

FACTS_FILE = "servers.json"


@dataclass(frozen=True)
class ServerFacts:
    api: str  # "tei" | "openai" | "ollama"
    model: str | None  # the name requests carry (None: TEI serves one model)
    served: str  # the model as the server names it
    full_dim: int
    max_batch: int
    max_batch_tokens: int
    max_input_tokens: int | None
    appends_eos: bool | None  # None: unknown (assumed yes: current servers and GGUFs do)


class FactsCache:
    def __init__(self, folder: Path) -> None:
        self.path = Path(folder) / FACTS_FILE

    @staticmethod
    def key(url: str, api: str, model: str | None) -> str:
        return f"{server_address(url)}|{api}|{model or ''}"

    def get(self, url: str, api: str, model: str | None) -> ServerFacts | None:
        entry = self._read().get(self.key(url, api, model))
        if not isinstance(entry, dict):
            return None
        try:
            return ServerFacts(**entry)
        except TypeError:  # written by another qfinder version: learnt again
            return None

    def put(self, url: str, api: str, model: str | None, facts: ServerFacts) -> None:
        known = self._read()
        known[self.key(url, api, model)] = asdict(facts)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(known, indent=1))
        except OSError as exc:
            log.info("could not keep the server's facts in %s: %s", self.path, exc)

    def _read(self) -> dict[str, Any]:
        return read_json_object(self.path)
