"""The output directory as a Hugging Face dataset: ``README.md`` with a ``configs:`` block.

Without it, ``datasets.load_dataset(OUT_DIR)`` infers one dataset from every file below the
directory: ``documents/``, ``rejects/`` and ``errors/`` have different schemas, and the
``_stats/*.jsonl`` files are not rows at all, so it fails. The card names one config per table
(``documents``, the default, then ``rejects`` and ``errors`` where the run wrote any), as the Hub's
"manual configuration" documents (huggingface.co/docs/hub/datasets-manual-configuration), and
describes the columns and the run (recipe, counts) for a reader of the directory.
"""
from __future__ import annotations

from apache_beam.io.filesystems import FileSystems

#: config name → (files relative to the output directory, what a row is).
TABLES = {
    "documents": ("documents/*.parquet", "a kept document"),
    "rejects": ("rejects/*.parquet", "a document a stage dropped, with `stage` and a versioned `reason`"),
    "errors": ("errors/*.parquet", "a record that could not be processed, with `kind` and `message`"),
}

COLUMN_NOTES = {
    "id": "16 hex digits of SHA-1 of the WARC-Record-ID",
    "url": "the page's URL (WARC-Target-URI)",
    "host": "lower-cased host of `url`",
    "crawl_date": "WARC-Date as timestamp[us, UTC]",
    "warc_file": "absolute location of the WARC file (a `gs://`/`s3://` URI, or an absolute local path)",
    "warc_offset": "byte offset of the record's gzip member in `warc_file`",
    "text": "extracted main text, normalised",
    "lang_score": "language-ID probability of Japanese",
}


def _has_files(pattern: str) -> bool:
    try:
        return bool(FileSystems.match([pattern])[0].metadata_list)
    except Exception:
        return False


def card(output: str, report: dict, columns: dict | None = None) -> str:
    """The card's text for the run in ``output`` (its ``report.json`` as a dict)."""
    out = output.rstrip("/")
    present = [name for name, (glob, _) in TABLES.items() if _has_files(f"{out}/{glob}")]
    if "documents" not in present:  # a run that kept nothing still gets a loadable default
        present.insert(0, "documents")
    yaml = ["---", "configs:"]
    for name in present:
        yaml += [f"- config_name: {name}", "  data_files:", "  - split: train",
                 f"    path: {TABLES[name][0]}"]
        if name == "documents":
            yaml.append("  default: true")
    yaml += ["language:", "- ja", "tags:", "- common-crawl", "- swallow-corpus", "---", ""]

    dropped = sum((report.get("dropped") or {}).values())
    errors = sum((report.get("errors") or {}).values())
    body = [
        f"# Swallow corpus run ({report.get('recipe', '?')})",
        "",
        "Japanese web documents from Common Crawl WARC files, built by the Swallow corpus pipeline "
        "(Okazaki et al., NLP2024; v2: Hattori et al., NLP2025) with recipe "
        f"`{report.get('recipe', '?')}`. `report.json` and `report.html` hold the full run report.",
        "",
        f"Records read {report.get('records_read', '?')}: kept {report.get('kept', '?')}, "
        f"dropped {dropped}, errors {errors}.",
        "",
        "```python",
        "import datasets",
        f'docs = datasets.load_dataset("{out}")["train"]            # documents',
        f'rejects = datasets.load_dataset("{out}", "rejects")["train"]',
        "```",
        "",
        "| config | files | a row is |",
        "|---|---|---|",
        *[f"| `{n}` | `{TABLES[n][0]}` | {TABLES[n][1]} |" for n in present],
        "",
        "## Columns of `documents`",
        "",
    ]
    for name in (columns or {}):
        note = COLUMN_NOTES.get(name, "")
        body.append(f"- `{name}` ({columns[name]}){': ' + note if note else ''}")
    if not columns:
        body += [f"- `{k}`: {v}" for k, v in COLUMN_NOTES.items()]
    body += ["", "Columns `q_*`, `ng_fraction` and the like are each rule's measured value, so a "
             "threshold can be re-applied without recomputing.", ""]
    return "\n".join(yaml + body)


def write_card(output: str, report: dict, columns: dict | None = None) -> str:
    path = f"{output.rstrip('/')}/README.md"
    with FileSystems.create(path) as f:
        f.write(card(output, report, columns).encode("utf-8"))
    return path
