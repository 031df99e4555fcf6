"""``python -m pipeline evals-index --evals DIR --output evals_index.npz [--ngram 10]``

Builds the index the ``decontaminate`` stage matches pages against (``--evals_index FILE`` on
``run``/``refresh``), from a directory of evaluation items in the ``evals/`` format (one JSONL per
suite: ``suite``, ``id``, ``text``, ``question``, ``context``, ... as in ``tests/data/evals/``).
The project ships the code and a tiny fixture, never the suites (their licences vary). What is
matched per suite, the normalisation and the n-grams: :mod:`transforms.evals`; the rule:
:mod:`transforms.decontaminate`. The file records the sha256 of every input file, so a report
can say which version of the suites a corpus was checked against.
"""
from __future__ import annotations

import hashlib
import os
import sys

from transforms import evals


def file_digests(evals_dir: str) -> dict[str, str]:
    out = {}
    for name in sorted(os.listdir(evals_dir)):
        if name.endswith(".jsonl"):
            with open(os.path.join(evals_dir, name), "rb") as f:
                out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


def build_file(evals_dir: str, output: str, ngram: int = evals.DEFAULT_NGRAM,
               min_key_chars: int = evals.DEFAULT_MIN_KEY_CHARS, max_df: int = evals.DEFAULT_MAX_DF,
               min_ngrams: int = evals.DEFAULT_MIN_NGRAMS) -> dict:
    """Build and write the index; return its metadata (with ``bytes``, the file size)."""
    if not os.path.isdir(evals_dir):
        raise FileNotFoundError(f"--evals {evals_dir}: not a directory")
    digests = file_digests(evals_dir)
    if not digests:
        raise FileNotFoundError(f"--evals {evals_dir}: no *.jsonl files")
    index = evals.build(evals.iter_items(evals_dir), ngram=ngram, min_key_chars=min_key_chars, max_df=max_df,
                        min_ngrams=min_ngrams)
    size = evals.save(index, output, sources={"dir": os.path.abspath(evals_dir), "sha256": digests})
    return {**index.meta, "bytes": size, "array_bytes": index.nbytes()}


def main(argv: list[str]) -> int:
    from pipeline.argv import OneLineParser

    ap = OneLineParser(prog="python -m pipeline evals-index",
                       description="Build the evaluation-item index for decontamination (`python -m pipeline "
                                   "run --evals_index FILE`) from a directory of suites in the evals/ format "
                                   "(one JSONL per suite).")
    ap.add_argument("--evals", required=True, help="directory of *.jsonl evaluation items (e.g. shared/data/evals)")
    ap.add_argument("--output", required=True, help="index file to write (.npz; any filesystem Beam knows)")
    ap.add_argument("--ngram", type=int, default=evals.DEFAULT_NGRAM,
                    help="character n-gram length, after normalisation")
    ap.add_argument("--min_key_chars", type=int, default=evals.DEFAULT_MIN_KEY_CHARS,
                    help="a shorter question is extended by its choices or answer")
    ap.add_argument("--max_df", type=int, default=evals.DEFAULT_MAX_DF,
                    help="n-grams shared by more distinct parts are dropped as boilerplate")
    ap.add_argument("--min_ngrams", type=int, default=evals.DEFAULT_MIN_NGRAMS,
                    help="a part with fewer n-grams left cannot be matched; a page must share at least this many")
    args = ap.parse_args(argv)
    try:
        meta = build_file(args.evals, args.output, args.ngram, args.min_key_chars, args.max_df, args.min_ngrams)
    except (FileNotFoundError, ValueError, KeyError) as e:
        print(f"python -m pipeline evals-index: error: {e}", file=sys.stderr)
        return 2
    for suite, s in meta["suites"].items():
        print(f"{suite:20s} items {s['items']:6d}  matchable {s['matchable']:6d}  passages {s['passages']:5d}")
    print(f"evals index: {meta['ngrams']:,} {meta['ngram']}-grams over {meta['parts']:,} parts, "
          f"{meta['array_bytes'] / 2**20:.1f} MiB in memory, {meta['bytes'] / 2**20:.1f} MiB on disk → {args.output}")
    return 0
