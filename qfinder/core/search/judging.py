"""Each result's relevance and why it matched, from the chunks the searcher already fetched.

    judge = ResultJudge(catalog)                  # keeps the background sample per generation
    results = judge.judge(results, texts, query, vector)   # FileResults with relevance, matched_by

`texts`: {path: the text of the file's matching chunks}. `vector`: the query's full-size vector
(None in keyword mode or without a model): each file's meaning evidence is the best full-size
cosine of its shown chunks, whatever dimension the search itself ran at.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence

import numpy as np

from qfinder.core.results import FileResult
from qfinder.core.search.background import Backgrounds, GenerationReads
from qfinder.core.search.query_syntax import ParsedQuery
from qfinder.core.search.relevance import Evidence, judge, z_to_relevance
from qfinder.core.search.snippets import QueryTerms


class ResultJudge:
    def __init__(self, reads: GenerationReads) -> None:
        self._reads = reads
        self.backgrounds = Backgrounds(reads)

    def judge(self, results: Sequence[FileResult], texts: Mapping[str, str], query: ParsedQuery,
              vector: np.ndarray | None) -> list[FileResult]:
        terms = QueryTerms(query)
        meaning = self._meaning(results, vector)
        judged = []
        for result in results:
            words = terms.found_in(texts.get(result.path, ""))
            names = terms.found_in(os.path.basename(result.path))
            evidence = Evidence(meaning.get(result.path), words, names, len(terms))
            relevance, matched_by = judge(evidence)
            found = tuple(dict.fromkeys((*names, *words)))
            judged.append(dataclasses.replace(result, relevance=relevance, matched_by=matched_by,
                                              matched_words=found))
        return judged

    def _meaning(self, results: Sequence[FileResult], vector: np.ndarray | None) -> dict[str, float]:
        """{path: meaning relevance}; 0 for all of them when the index is too small to tell
        (no background), none at all without a query vector."""
        if vector is None:
            return {}
        background = self.backgrounds.of(vector)
        if background is None:
            return dict.fromkeys((r.path for r in results), 0.0)
        owner = {hit.chunk_id: r.path for r in results for hit in r.chunks}
        ids, vecs = self._reads.vectors(list(owner))
        best: dict[str, float] = {}
        for chunk_id, cosine in zip(ids, vecs @ vector, strict=True):
            path = owner[int(chunk_id)]
            best[path] = max(best.get(path, -1.0), float(cosine))
        meaning = {path: z_to_relevance(background.z(cos)) for path, cos in best.items()}
        meaning.update({r.path: 0.0 for r in results if r.path not in meaning})  # names only
        return meaning


def filtered(results: Sequence[FileResult]) -> list[FileResult]:
    """A listing by filters alone: each file matches all there is to match."""
    relevance, matched_by = judge(Evidence(filtered=True))
    return [dataclasses.replace(r, relevance=relevance, matched_by=matched_by) for r in results]
