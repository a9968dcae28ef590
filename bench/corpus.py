"""What the benches index and embed: the team's material in ../shared, or in $QFINDER_SHARED (the
Qwen3 tokenizer, the BEIR collections under data/, written out as folders of files) and generated
trees of small files.

    write_collection(folder, max_docs=40)     # the first 40 cisi documents, one .txt file each
    write_texts(folder, documents(40))         # the same, or generated prose where ../shared is absent
    chunk_texts(24)                            # a mix of chunk-shaped texts cut from cisi
    numbered_tree(root, 10_000)                # 100 folders x 100 one-line notes
"""

from __future__ import annotations

import os
from pathlib import Path

from qfinder.devtools.bench_models import chunk_mix
from qfinder.devtools.ir_eval import Collection, doc_text, load_collection, write_corpus

# QFINDER_SHARED: where the material is when a checkout (a git worktree) has none beside it
SHARED = Path(os.environ.get("QFINDER_SHARED") or Path(__file__).resolve().parents[1].parent / "shared")
DATA = SHARED / "data"
TOKENIZER = SHARED / "models" / "qwen3-tokenizer" / "tokenizer.json"
E5 = SHARED / "models" / "multilingual-e5-small-q4"
CISI = "cisi"
FILES_PER_FOLDER = 100


def present(name: str = CISI) -> bool:
    return (DATA / name / "corpus.jsonl").is_file()


def collection(name: str = CISI, max_docs: int | None = None) -> Collection:
    """A collection of ../shared/data (e.g. "cisi", "xquad/en"): its first `max_docs` documents."""
    return load_collection(DATA / name, max_docs=max_docs)


def write_collection(folder: Path, name: str = CISI, max_docs: int | None = None) -> dict[str, Path]:
    """The first `max_docs` documents of a collection as .txt files in `folder` ({doc id: path})."""
    return write_corpus(collection(name, max_docs), folder)


def bodies(name: str = CISI) -> list[str]:
    """Every document's text without its title: what the chunk mixes are cut from."""
    return [text for _title, text in collection(name).docs.values()]


def chunk_texts(count: int, seed: int = 0) -> list[str]:
    """`count` texts shaped like an indexer's chunks (bench_models.chunk_mix), cut from cisi with
    the real Qwen3 tokenizer."""
    return chunk_mix(TOKENIZER, bodies(), count, seed=seed)


def documents(count: int) -> list[str]:
    """The first `count` cisi documents (title and text), or as many generated ones of about the
    same length where ../shared is absent."""
    if present():
        return [doc_text(title, text) for title, text in collection(max_docs=count).docs.values()]
    return [" ".join(f"word{(i * 7 + j) % 997} text{j % 31}" for j in range(400)) for i in range(count)]


def write_texts(folder: Path, texts: list[str], prefix: str = "doc") -> None:
    """One numbered .txt file per text in `folder` (made if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, text in enumerate(texts):
        (folder / f"{prefix}{i:04d}.txt").write_text(text, encoding="utf-8")


def numbered_tree(root: Path, n_files: int) -> None:
    """About `n_files` one-line notes, FILES_PER_FOLDER a folder (project-NNN/notes/note_NNN.txt):
    the tree that re-scans and walks are timed on."""
    for i in range(max(1, n_files // FILES_PER_FOLDER)):
        folder = root / f"project-{i:03d}" / "notes"
        folder.mkdir(parents=True)
        for j in range(FILES_PER_FOLDER):
            (folder / f"note_{j:03d}.txt").write_text(f"note {i} {j}\n")
