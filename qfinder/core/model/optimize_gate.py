"""The safety gate of `models optimize`: does a candidate embed like the fp32 model it came from?

Two checks on real text, both against the fp32 model's own vectors: every text's cosine to its
fp32 vector (a single bad text fails the candidate; long texts are in the sample too, since int8
error grows with length: on the 0.6B architecture dynamic int8 measured cosine 0.9958 on the short
passages but 0.9936 on 384-token chunks), and retrieval agreement — for each query,
how many of fp32's top-10 passages the candidate also ranks in its top 10. Cosine alone can hide
a candidate that shifts all vectors a little in the same direction and reorders close passages;
agreement is what a user would notice.

The default sample ships with qfinder (optimize_sample.txt: several languages, code, numbers);
`load_sample(path)` reads a user's own file in the same format.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from qfinder.core.errors import ModelError

MIN_COSINE = 0.995
MIN_AGREEMENT = 0.9
TOP_K = 10
LONG_RUN = 11  # passages per long text: about 380 tokens, as long as the chunks indexing embeds (384)
_QUERY_MARK = "? "


@dataclass(frozen=True)
class GateSample:
    queries: tuple[str, ...]
    passages: tuple[str, ...]

    @property
    def long_texts(self) -> tuple[str, ...]:
        return tuple("\n\n".join(self.passages[i:i + LONG_RUN]) for i in range(0, len(self.passages), LONG_RUN))


@dataclass(frozen=True)
class SampleVectors:
    """One model's vectors of a GateSample: passages and long texts as documents, queries as queries."""

    passages: np.ndarray
    queries: np.ndarray
    long_texts: np.ndarray


@dataclass(frozen=True)
class GateResult:
    min_cosine: float
    mean_cosine: float
    agreement: float  # mean share of fp32's top-k passages the candidate also puts in its top k
    passed: bool


def load_sample(path: Path | None = None) -> GateSample:
    """The packaged sample, or a text file in its format (one text a line, "? " marks a query)."""
    if path is None:
        text = resources.files("qfinder.core.model").joinpath("optimize_sample.txt").read_text(encoding="utf-8")
        where = "qfinder's optimize_sample.txt"
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ModelError(f"Cannot read the sample file {path}: {exc}.", "Give a UTF-8 text file.") from exc
        where = str(path)
    return parse_sample(text, where)


def parse_sample(text: str, where: str) -> GateSample:
    lines = [line.strip().replace("\\n", "\n") for line in text.splitlines()]
    lines = [line for line in lines if line and not line.startswith("#")]
    queries = tuple(line[len(_QUERY_MARK):] for line in lines if line.startswith(_QUERY_MARK))
    passages = tuple(line for line in lines if not line.startswith(_QUERY_MARK))
    if not queries or len(passages) <= TOP_K:
        raise ModelError(f"{where} holds {len(queries)} queries and {len(passages)} passages.",
                         f"A sample needs at least one query (a line starting with '{_QUERY_MARK}') and more "
                         f"than {TOP_K} passages (the other lines).")
    return GateSample(queries, passages)


def embed_sample(embedder: Any, sample: GateSample) -> SampleVectors:
    """`embedder`: an Embedder (or anything with its embed_documents / embed_queries)."""
    return SampleVectors(embedder.embed_documents(list(sample.passages)), embedder.embed_queries(list(sample.queries)),
                         embedder.embed_documents(list(sample.long_texts)))


def check(reference: SampleVectors, candidate: SampleVectors, min_cosine: float = MIN_COSINE,
          min_agreement: float = MIN_AGREEMENT) -> GateResult:
    cosines = np.concatenate([_row_cosines(reference.passages, candidate.passages),
                              _row_cosines(reference.queries, candidate.queries),
                              _row_cosines(reference.long_texts, candidate.long_texts)])
    agreement = top_k_agreement(reference, candidate)
    return GateResult(min_cosine=round(float(cosines.min()), 6), mean_cosine=round(float(cosines.mean()), 6),
                      agreement=round(agreement, 4),
                      passed=bool(cosines.min() >= min_cosine and agreement >= min_agreement))


def top_k_agreement(reference: SampleVectors, candidate: SampleVectors, k: int = TOP_K) -> float:
    expected = _top_k(reference.queries @ reference.passages.T, k)
    found = _top_k(candidate.queries @ candidate.passages.T, k)
    overlaps = [len(set(a) & set(b)) / k for a, b in zip(expected, found, strict=True)]
    return float(np.mean(overlaps))


def _top_k(scores: np.ndarray, k: int) -> list[list[int]]:
    return [list(np.argsort(-row, kind="stable")[:k]) for row in scores]


def _row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
