"""Train a fastText classifier on character 2/3-grams and evaluate it on a held-out split.

    # a shipped model, from its spec (classifiers/specs.py), on the whole dev split, with the
    # setting and threshold the committed search chose (classifiers/results/search_<name>.json)
    python -m classifiers.train --model medical      # → classifiers/models/medical.ftz + .json
    # binary (Wiki) classifier: positives vs negatives, one or more files each
    python -m classifiers.train --kind binary --pos wiki.jsonl --neg web.jsonl --out classifiers/models/wiki.ftz
    # 4-class educational value: one labelled file, label field 0..3
    python -m classifiers.train --kind edu --data labels.jsonl --label-field edu --out classifiers/models/edu.ftz
    # extra test set scored by reading (e.g. the medical labels): --test FILE --test-label-field medical

Inputs: ``.jsonl``/``.jsonl.gz`` (field ``--text-field``, default ``text``), ``.parquet`` (same
column), or ``.txt`` (one document per line). ``--limit N`` takes N random records per file
(seeded). Writes ``<out>`` (``.ftz``: quantised) and ``<out stem>.json`` with the kind, the
training command, the data counts and the evaluation (see :mod:`classifiers.evaluate`).
"""
from __future__ import annotations

import argparse
import math
import gzip
import json
import os
import random
import sys
import tempfile

from classifiers.evaluate import binary_metrics, edu_metrics
from classifiers.ft import DEFAULT_MAX_CHARS, features, load_fasttext, score_from



def read_texts(path: str, text_field: str = "text", label_field: str | None = None) -> list[tuple[str, object]]:
    """``[(text, label or None)]`` from JSONL, Parquet or plain text."""
    if path.endswith(".parquet") or os.path.isdir(path):
        import pyarrow.parquet as pq

        cols = [text_field] + ([label_field] if label_field else [])
        t = pq.read_table(path, columns=cols).to_pydict()
        return [(x, t[label_field][i] if label_field else None) for i, x in enumerate(t[text_field]) if x]
    opener = gzip.open if path.endswith(".gz") else open
    out = []
    with opener(path, "rt", encoding="utf-8") as f:
        if ".jsonl" in path or ".json" in path:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    if d.get(text_field):
                        out.append((d[text_field], d.get(label_field) if label_field else None))
        else:
            out = [(ln.rstrip("\n"), None) for ln in f if ln.strip()]
    return out


def _take(items: list, limit: int | None, rng: random.Random) -> list:
    if limit and len(items) > limit:
        items = rng.sample(items, limit)
    return items


def split(items: list, test_frac: float, seed: int, strat: list | None = None):
    from sklearn.model_selection import train_test_split

    if test_frac <= 0:
        return items, []
    return train_test_split(items, test_size=test_frac, random_state=seed, stratify=strat)


def _train_worker(tmp: str, kwargs: dict, quantize: bool, cutoff: int, out: str) -> None:
    import fasttext

    model = fasttext.train_supervised(input=tmp, **kwargs)
    if quantize:
        model.quantize(input=tmp, qnorm=True, retrain=False, cutoff=cutoff)
    model.save_model(out)


def fit(train: list[tuple[str, object]], args) -> object:
    """Seeded fastText training on character 2/3-grams; returns the loaded model.

    Training runs in a fresh (spawned) process: fastText-numpy2 0.10.4 sometimes aborts a second
    training in the same process with "Encountered NaN" (state left over from the first), while
    the same data and arguments train cleanly in a new process. A fresh process per model also
    makes the result a function of the arguments only (seed, one thread)."""
    import multiprocessing as mp

    rng = random.Random(args.seed)
    rows = list(train)
    rng.shuffle(rows)
    workdir = tempfile.mkdtemp(prefix="ft_train_")
    tmp = os.path.join(workdir, "train.txt")
    out = os.path.join(workdir, "model.ftz" if args.out.endswith(".ftz") else "model.bin")
    with open(tmp, "w", encoding="utf-8") as f:
        for text, label in rows:
            f.write(f"__label__{label} {features(text, args.max_chars)}\n")
    kwargs = dict(lr=args.lr, epoch=args.epoch, dim=args.dim, wordNgrams=1, minCount=args.min_count,
                  bucket=args.bucket, loss="softmax", thread=args.threads, seed=args.seed, verbose=0)
    try:
        proc = mp.get_context("spawn").Process(
            target=_train_worker, args=(tmp, kwargs, args.out.endswith(".ftz"), args.cutoff, out))
        proc.start()
        proc.join()
        if proc.exitcode != 0 or not os.path.exists(out):
            raise RuntimeError(f"fastText training failed (exit code {proc.exitcode}); arguments {kwargs}")
        return load_fasttext(out)
    finally:
        for name in os.listdir(workdir):
            os.unlink(os.path.join(workdir, name))
        os.rmdir(workdir)


def predict(model, texts: list[str], kind: str, max_chars: int) -> tuple[list[float], list[int]]:
    labels, probs = model.predict([features(t, max_chars) for t in texts], k=-1)
    scores = [score_from(lab, pr, kind) for lab, pr in zip(labels, probs)]
    top = [int(lab[0].replace("__label__", "")) if len(lab) else 0 for lab in labels]
    return scores, top


def evaluate(model, test: list[tuple[str, object]], kind: str, max_chars: int) -> dict:
    if not test:
        return {}
    texts = [t for t, _ in test]
    gold = [int(g) for _, g in test]
    scores, top = predict(model, texts, kind, max_chars)
    return binary_metrics(gold, scores) if kind == "binary" else edu_metrics(gold, scores, top)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m classifiers.train", description=__doc__.split("\n")[0])
    ap.add_argument("--model", default=None, choices=("medical", "edu", "wiki"),
                    help="train a shipped model from its spec (ignores the data options below)")
    ap.add_argument("--shared", default=None, help="with --model: the shared data directory (default ../shared/data)")
    ap.add_argument("--kind", choices=("binary", "edu"), default=None, help="binary | edu (required without --model)")
    ap.add_argument("--pos", nargs="*", default=[], help="positive-class files (binary)")
    ap.add_argument("--neg", nargs="*", default=[], help="negative-class files (binary)")
    ap.add_argument("--data", nargs="*", default=[], help="labelled files (label in --label-field)")
    ap.add_argument("--label-field", default="label")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--limit", type=int, default=None, help="at most N random records per file")
    ap.add_argument("--test", nargs="*", default=[], help="extra labelled test files (reported separately)")
    ap.add_argument("--test-label-field", default=None)
    ap.add_argument("--exclude-test-from-train", action="store_true",
                    help="drop training texts that also occur in --test")
    ap.add_argument("--test-frac", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epoch", type=int, default=10)
    ap.add_argument("--lr", type=float, default=0.3)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--min-count", type=int, default=2)
    ap.add_argument("--bucket", type=int, default=200000)
    ap.add_argument("--cutoff", type=int, default=100000, help="quantisation: keep the N most important n-grams")
    ap.add_argument("--threads", type=int, default=1, help="1 = reproducible")
    ap.add_argument("--max-chars", type=int, default=DEFAULT_MAX_CHARS)
    ap.add_argument("--name", default=None, help="score column the model feeds (e.g. wiki_score)")
    ap.add_argument("--out", default=None, help="model path (.ftz = quantised, .bin = full); "
                    "default with --model: classifiers/models/<model>.ftz")
    return ap


def load_dataset(args) -> list[tuple[str, int]]:
    rng = random.Random(args.seed)
    items: list[tuple[str, int]] = []
    if args.kind == "binary":
        for path in args.pos:
            items += [(t, 1) for t, _ in _take(read_texts(path, args.text_field), args.limit, rng)]
        for path in args.neg:
            items += [(t, 0) for t, _ in _take(read_texts(path, args.text_field), args.limit, rng)]
    for path in args.data:
        rows = [(t, int(y)) for t, y in read_texts(path, args.text_field, args.label_field) if y is not None]
        items += _take(rows, args.limit, rng)
    return items


def train_spec(args, argv: list[str] | None) -> dict:
    """A shipped model: all dev rows of its spec, the searched setting; no test rows are read."""
    from collections import Counter

    from classifiers import specs
    from classifiers.ft import MODELS_DIR
    from classifiers.search import chosen, fit_args

    spec = specs.get(args.model)
    pick = chosen(spec.name)
    dev = [r for r in specs.rows(spec, args.shared, args.seed) if r["split"] == "dev"]
    fargs = fit_args(spec, pick["params"], args.seed)
    fargs.out = args.out or os.path.join(MODELS_DIR, f"{spec.name}.ftz")
    model = fit([(r["text"], r[spec.label]) for r in dev], fargs)
    os.makedirs(os.path.dirname(os.path.abspath(fargs.out)), exist_ok=True)
    model.save_model(fargs.out)
    meta = {
        "kind": spec.kind, "name": spec.column, "positive": "1",
        "features": "character 2- and 3-grams, newlines -> spaces",
        "max_chars": spec.max_chars, "seed": args.seed, "params": pick["params"],
        # rounded down to 4 decimals: the figure a recipe states, selecting the same pages or more
        "threshold": None if pick["threshold"] is None else math.floor(pick["threshold"] * 1e4) / 1e4,
        "command": "python -m classifiers.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "train_size": len(dev),
        "label_counts": {str(k): v for k, v in sorted(Counter(r[spec.label] for r in dev).items())},
        "train_rows_by_origin": dict(sorted(Counter(r["origin"] for r in dev).items())),
        "model_bytes": os.path.getsize(fargs.out),
        "search": f"classifiers/results/search_{spec.name}.json",
        "evaluation": "classifiers/results/heldout.json (python -m classifiers.evaluate)",
    }
    with open(os.path.splitext(fargs.out)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=2)
        f.write("\n")
    print(json.dumps({k: meta[k] for k in ("train_size", "label_counts", "params", "threshold", "model_bytes")}))
    return meta


def main(argv: list[str] | None = None) -> dict:
    ap = build_parser()
    args = ap.parse_args(argv)
    if args.model:
        return train_spec(args, argv)
    if not args.kind or not args.out:
        ap.error("--kind and --out are required without --model")
    items = load_dataset(args)
    extra_test = []
    for path in args.test:
        extra_test += [(t, int(y)) for t, y in read_texts(path, args.text_field, args.test_label_field or args.label_field)
                       if y is not None]
    if args.exclude_test_from_train and extra_test:
        seen = {t for t, _ in extra_test}
        items = [x for x in items if x[0] not in seen]
    if not items:
        raise SystemExit("no training data")
    train, test = split(items, args.test_frac, args.seed, [y for _, y in items])
    model = fit(train, args)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    model.save_model(args.out)
    counts = {str(k): sum(1 for _, y in items if y == k) for k in sorted({y for _, y in items})}
    meta = {
        "kind": args.kind,
        "name": args.name,
        "positive": "1",
        "features": "character 2- and 3-grams, newlines -> spaces",
        "max_chars": args.max_chars,
        "seed": args.seed,
        "lr": args.lr,
        "command": "python -m classifiers.train " + " ".join(argv if argv is not None else sys.argv[1:]),
        "train_size": len(train), "test_size": len(test), "label_counts": counts,
        "model_bytes": os.path.getsize(args.out),
        "eval_heldout": evaluate(model, test, args.kind, args.max_chars),
    }
    if extra_test:
        meta["eval_extra_test"] = evaluate(model, extra_test, args.kind, args.max_chars)
    with open(os.path.splitext(args.out)[0] + ".json", "w", encoding="utf-8") as f:
        json.dump(meta, f, ensure_ascii=False, indent=2)
    print(json.dumps({k: meta[k] for k in ("train_size", "test_size", "model_bytes", "eval_heldout")}
                     | ({"eval_extra_test": meta["eval_extra_test"]} if extra_test else {}), indent=1))
    return meta


if __name__ == "__main__":
    main()
