"""File kinds by name: which extractor reads a file, and what filters and icons call it."""

from __future__ import annotations

import os

CODE_EXTENSIONS = frozenset(
    [
        "py",
        "pyi",
        "pyw",
        "pyx",
        "ipynb",
        "c",
        "h",
        "cc",
        "cpp",
        "cxx",
        "hpp",
        "hh",
        "hxx",
        "m",
        "mm",
        "cs",
        "java",
        "kt",
        "kts",
        "scala",
        "groovy",
        "gradle",
        "go",
        "rs",
        "swift",
        "js",
        "jsx",
        "mjs",
        "cjs",
        "ts",
        "tsx",
        "vue",
        "svelte",
        "php",
        "rb",
        "pl",
        "pm",
        "lua",
        "r",
        "jl",
        "dart",
        "ex",
        "exs",
        "erl",
        "hrl",
        "hs",
        "lhs",
        "ml",
        "mli",
        "fs",
        "fsx",
        "fsi",
        "clj",
        "cljs",
        "cljc",
        "edn",
        "lisp",
        "el",
        "scm",
        "rkt",
        "sh",
        "bash",
        "zsh",
        "fish",
        "ps1",
        "psm1",
        "bat",
        "cmd",
        "sql",
        "proto",
        "thrift",
        "graphql",
        "gql",
        "tf",
        "hcl",
        "nix",
        "cmake",
        "mk",
        "make",
        "dockerfile",
        "asm",
        "s",
        "v",
        "sv",
        "vhd",
        "vhdl",
        "zig",
        "nim",
        "cr",
        "d",
        "f",
        "f90",
        "f95",
        "pas",
        "ada",
        "adb",
        "ads",
        "css",
        "scss",
        "sass",
        "less",
        "toml",
        "yaml",
        "yml",
        "ini",
        "cfg",
        "conf",
        "properties",
        "xml",
        "xsd",
        "xsl",
        "xslt",
        "svg",
        "gd",
        "tex",
        "bib",
        "sty",
        "cls",
    ]
)
TEXT_EXTENSIONS = frozenset(
    {"txt", "text", "log", "rst", "adoc", "asciidoc", "org", "nfo", "srt", "vtt"}
)
MARKDOWN_EXTENSIONS = frozenset({"md", "markdown", "mdown", "mkd", "mdx"})
CODE_NAMES = frozenset(
    {
        "makefile",
        "dockerfile",
        "containerfile",
        "gemfile",
        "rakefile",
        "cmakelists.txt",
        "jenkinsfile",
        "vagrantfile",
        "procfile",
        "justfile",
    }
)
TEXT_NAMES = frozenset(
    {"readme", "license", "licence", "copying", "authors", "changelog", "notice", "todo"}
)

_BY_EXTENSION: dict[str, str] = {
    **{ext: "code" for ext in CODE_EXTENSIONS},
    **{ext: "text" for ext in TEXT_EXTENSIONS},
    **{ext: "markdown" for ext in MARKDOWN_EXTENSIONS},
    "html": "html",
    "htm": "html",
    "xhtml": "html",
    "pdf": "pdf",
    "docx": "docx",
    "docm": "docx",
    "pptx": "pptx",
    "pptm": "pptx",
    "xlsx": "xlsx",
    "xlsm": "xlsx",
    "odt": "odt",
    "epub": "epub",
    "eml": "eml",
    "csv": "csv",
    "tsv": "csv",
    "json": "json",
    "jsonl": "json",
    "ndjson": "json",
    "geojson": "json",
}
# Extracted in a child process with a time limit and a memory cap (hostile-file risk).
CHILD_KINDS = frozenset({"pdf", "docx", "pptx", "xlsx", "odt", "epub"})
# Decoded as text in this process (bounded by ExtractLimits.max_file_bytes).
TEXT_KINDS = frozenset({"text", "markdown", "code", "csv", "json", "html", "eml"})
UNKNOWN = "other"
KINDS = tuple(sorted(set(_BY_EXTENSION.values())))  # what `kind_of` can say, "other" aside


def kind_of(path: str | os.PathLike[str]) -> str:
    """ "pdf", "docx", "pptx", "xlsx", "odt", "epub", "eml", "html", "markdown", "code", "text",
    "csv", "json", or "other" (not extracted; the name stays searchable)."""
    name = os.path.basename(os.fspath(path)).lower()
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:  # "Makefile", ".bashrc"
        base = name.lstrip(".")
        if base in CODE_NAMES or name.startswith("."):
            return "code" if base in CODE_NAMES or base.endswith("rc") else UNKNOWN
        return "text" if base in TEXT_NAMES else UNKNOWN
    if name in CODE_NAMES:
        return "code"
    return _BY_EXTENSION.get(ext, "text" if stem in TEXT_NAMES else UNKNOWN)


def extensions_of(kind: str) -> tuple[str, ...]:
    """The extensions `kind_of` calls `kind` (sorted)."""
    return tuple(sorted(ext for ext, known in _BY_EXTENSION.items() if known == kind))


def names_of(kind: str) -> tuple[str, ...]:
    """Whole file names (lower case, no extension needed) that `kind_of` calls `kind`."""
    return tuple(sorted({"code": CODE_NAMES, "text": TEXT_NAMES}.get(kind, frozenset())))


def is_supported(path: str | os.PathLike[str]) -> bool:
    """Can ``extract_text`` read this file's content (by name)?"""
    return kind_of(path) != UNKNOWN
