"""Metrics, and the held-out evaluation of the shipped classifiers.

    python -m classifiers.evaluate                 # every shipped model on the test split → classifiers/results/heldout.json
    python -m classifiers.evaluate --agreement     # reader agreement on the texts read twice → classifiers/results/agreement.json
    python -m classifiers.evaluate --fixture       # + the test rows the tests re-score (tests/data/classifiers/heldout.jsonl.gz)

Binary models: ROC-AUC, and precision/recall/F1 at the model's threshold (``threshold`` in its
JSON, chosen by :mod:`classifiers.search` on the dev split); the educational-value model:
Spearman's rho, RMSE/MAE of the expected score Σ l·p, and binary accuracy at 1.5 (score ≥ 1.5 vs
gold ≥ 2). Each on slices of the test split (:func:`classifiers.specs.evaluation_slices`): web
pages of whole sites (all, and those v2's rules keep: there also against the site-level label),
web documents, corpus texts. Needs ``../shared/data`` (or ``--shared``).
"""
from __future__ import annotations

import argparse
import gzip
import json
import math
import os

RESULTS = os.path.join(os.path.dirname(__file__), "results")
FIXTURE = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "classifiers", "heldout.jsonl.gz")


def binary_metrics(gold: list[int], scores: list[float], threshold: float = 0.5) -> dict:
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support, roc_auc_score

    pred = [int(s >= threshold) for s in scores]
    p, r, f, _ = precision_recall_fscore_support(gold, pred, average="binary", zero_division=0)
    try:
        auc = float(roc_auc_score(gold, scores))
    except ValueError:  # one class only
        auc = float("nan")
    return {"n": len(gold), "positives": int(sum(gold)), "threshold": threshold,
            "precision": float(p), "recall": float(r), "f1": float(f), "roc_auc": auc,
            "accuracy": float(accuracy_score(gold, pred))}


def edu_metrics(gold: list[int], scores: list[float], argmax: list[int] | None = None) -> dict:
    from scipy.stats import spearmanr
    from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error

    out = {"n": len(gold),
           "spearman": float(spearmanr(gold, scores).correlation) if len(set(gold)) > 1 else float("nan"),
           "rmse": float(math.sqrt(mean_squared_error(gold, scores))),
           "mae": float(mean_absolute_error(gold, scores)),
           "binary_accuracy_at_1.5": float(accuracy_score([int(g >= 2) for g in gold],
                                                          [int(s >= 1.5) for s in scores])),
           "label_counts": {str(k): int(sum(1 for g in gold if g == k)) for k in range(4)}}
    if argmax is not None:
        out["accuracy"] = float(accuracy_score(gold, argmax))
    return out


def best_f1_threshold(gold: list[int], scores: list[float]) -> float:
    """The score threshold with the highest F1 (ties: the higher threshold)."""
    pairs = sorted(zip(scores, gold), reverse=True)
    pos = sum(gold)
    best, thr, tp = -1.0, 0.5, 0
    for i, (s, g) in enumerate(pairs):
        tp += g
        if i + 1 < len(pairs) and pairs[i + 1][0] == s:
            continue
        f1 = 2 * tp / (i + 1 + pos) if pos else 0.0
        if f1 > best:
            best, thr = f1, s
    return float(thr)


def recall_at_precision(gold: list[int], scores: list[float], min_precision: float) -> float:
    """The highest recall of any threshold whose precision is at least ``min_precision``."""
    pairs = sorted(zip(scores, gold), reverse=True)
    pos = sum(gold) or 1
    best, tp = 0.0, 0
    for i, (s, g) in enumerate(pairs):
        tp += g
        if i + 1 < len(pairs) and pairs[i + 1][0] == s:
            continue
        if tp / (i + 1) >= min_precision:
            best = max(best, tp / pos)
    return best


def slice_metrics(spec, rows: list[dict], scores: dict[str, float], threshold: float | None) -> dict:
    """Metrics of ``scores`` (uid → score) on every slice of ``rows`` that has both classes."""
    from classifiers.specs import evaluation_slices

    out = {}
    for name, keep in evaluation_slices(spec).items():
        sub = [r for r in rows if keep(r)]
        if not sub:
            continue
        s = [scores[r["uid"]] for r in sub]
        if spec.kind == "edu":
            out[name] = edu_metrics([int(r[spec.label]) for r in sub], s)
            continue
        gold = [int(r[spec.label]) for r in sub]
        if 0 < sum(gold) < len(gold):
            m = binary_metrics(gold, s, 0.5 if threshold is None else threshold)
            m["recall_at_precision_0.8"] = recall_at_precision(gold, s, 0.8)
            out[name] = m
        if name == "site_pages_v2" and spec.name == "medical":  # the site-level label
            site = [int(r.get("site_kind") == "medical") for r in sub]
            m = binary_metrics(site, s, 0.5 if threshold is None else threshold)
            m["recall_at_precision_0.8"] = recall_at_precision(site, s, 0.8)
            out["site_pages_v2_site_kind"] = m
    return out


def heldout(names: list[str], shared: str | None = None, fixture: bool = False,
            models_dir: str | None = None) -> dict:
    from classifiers import specs
    from classifiers.ft import Scorer, model_path

    results, fixture_rows = {}, []
    for name in names:
        spec = specs.get(name)
        scorer = Scorer(os.path.join(models_dir, f"{name}.ftz") if models_dir else model_path(f"{name}.ftz"))
        rows = [r for r in specs.rows(spec, shared) if r["split"] == "test"]
        scores = dict(zip([r["uid"] for r in rows], scorer.score_batch([r["text"] for r in rows])))
        from classifiers.ft import meta_for

        threshold = meta_for(scorer.path).get("threshold")
        results[name] = {"model": scorer.path if models_dir else f"classifiers/models/{name}.ftz",
                         "threshold": threshold,
                         "test_rows": len(rows), "slices": slice_metrics(spec, rows, scores, threshold)}
        for r in rows:
            fixture_rows.append({"model": name, "uid": r["uid"], "origin": r["origin"], "family": r["family"],
                                 "v2_pass": r.get("v2_pass"), "site_kind": r.get("site_kind"),
                                 spec.label: r[spec.label], "text": r["text"][: 2 * scorer.max_chars]})
    if fixture:
        os.makedirs(os.path.dirname(FIXTURE), exist_ok=True)
        with gzip.GzipFile(FIXTURE, "wb", mtime=0) as f:
            for r in fixture_rows:
                f.write((json.dumps(r, ensure_ascii=False) + "\n").encode("utf-8"))
    return results


def agreement() -> dict:
    """Two readers' labels on the texts both read (``classifiers/data/labels/agreement/``)."""
    import glob

    from scipy.stats import spearmanr

    from classifiers.datasets import LABELS_DIR, read_jsonl, reading_labels

    first = reading_labels()
    out = {}
    for path in sorted(glob.glob(os.path.join(LABELS_DIR, "agreement", "*.jsonl"))):
        pairs = [(first[r["uid"]], r) for r in read_jsonl(path) if r["uid"] in first]
        a = [x["edu"] for x, _ in pairs]
        b = [y["edu"] for _, y in pairs]
        n = len(pairs)
        out[os.path.basename(path)] = {
            "n": n, "edu_exact": sum(x == y for x, y in zip(a, b)) / n,
            "edu_within_one": sum(abs(x - y) <= 1 for x, y in zip(a, b)) / n,
            "edu_spearman": float(spearmanr(a, b).correlation),
            "edu_binary_at_2": sum((x >= 2) == (y >= 2) for x, y in zip(a, b)) / n,
            "medical_agree": sum(x["medical"] == y["medical"] for x, y in pairs) / n,
            "medical_positives": [sum(x["medical"] for x, _ in pairs), sum(y["medical"] for _, y in pairs)]}
    return out


README = os.path.join(os.path.dirname(__file__), "README.md")
BEGIN, END = "<!-- heldout:begin (python -m classifiers.evaluate) -->", "<!-- heldout:end -->"
_SLICE_NAMES = {"site_pages": "website pages", "site_pages_v2": "website pages v2 keeps",
                "site_pages_v2_site_kind": "website pages v2 keeps, site-level label",
                "web_docs": "web documents", "web_v2": "web texts v2 meets (pages v2 keeps + documents)",
                "web": "all web", "corpus": "corpus texts", "all": "all"}


def readme_table(results: dict) -> str:
    """The held-out table of classifiers/README.md, from ``results/heldout.json``."""
    lines = [BEGIN, "", "| model | test slice | n (positives) | ROC-AUC | P / R at threshold | R at P ≥ 0.8 | Spearman | acc. at 1.5 |",
             "|---|---|---|---|---|---|---|---|"]
    for name in sorted(results):
        r = results[name]
        for sl in sorted(r["slices"], key=lambda k: list(_SLICE_NAMES).index(k) if k in _SLICE_NAMES else 99):
            m = r["slices"][sl]
            if sl == "all" and len(r["slices"]) > 2:
                continue
            label = _SLICE_NAMES.get(sl, sl)
            if "spearman" in m:
                lines.append(f"| {name} | {label} | {m['n']} | | | | {m['spearman']:.3f} | {m['binary_accuracy_at_1.5']:.3f} |")
            else:
                lines.append(f"| {name} | {label} | {m['n']} ({m['positives']}) | {m['roc_auc']:.3f} | "
                             f"{m['precision']:.2f} / {m['recall']:.2f} at {m['threshold']:.3f} | "
                             f"{m['recall_at_precision_0.8']:.2f} | | |")
    return "\n".join(lines + ["", END])


def update_readme(results: dict, path: str = README) -> None:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise ValueError(f"{path}: no {BEGIN} … {END} block")
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    with open(path, "w", encoding="utf-8") as f:
        f.write(head + readme_table(results) + tail)


def _write(name: str, obj: dict) -> str:
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")
    return path


def main(argv: list[str] | None = None) -> int:
    from classifiers.specs import SPECS

    ap = argparse.ArgumentParser(prog="python -m classifiers.evaluate",
                                 description="Held-out evaluation of the shipped classifiers (test split).")
    ap.add_argument("--models", nargs="*", default=sorted(SPECS), help=f"default: {' '.join(sorted(SPECS))}")
    ap.add_argument("--shared", default=None, help="the shared data directory (default ../shared/data)")
    ap.add_argument("--agreement", action="store_true", help="also reader agreement (results/agreement.json)")
    ap.add_argument("--models_dir", default=None,
                    help="evaluate the <model>.ftz/.json files of this folder instead of the shipped ones "
                         "(e.g. an earlier release: git show REV:classifiers/models/medical.ftz > DIR/medical.ftz)")
    ap.add_argument("--out", default="heldout.json", help="results file under classifiers/results/")
    ap.add_argument("--fixture", action="store_true",
                    help="also write the test rows the unit tests re-score (tests/data/classifiers/heldout.jsonl.gz)")
    args = ap.parse_args(argv)
    if args.models_dir and (args.fixture or args.out == "heldout.json"):
        ap.error("--models_dir writes its own --out file (not heldout.json) and no fixture")
    res = heldout(args.models, args.shared, args.fixture, args.models_dir)
    path = os.path.join(RESULTS, args.out)
    old = json.load(open(path, encoding="utf-8")) if os.path.exists(path) else {}
    print("wrote", _write(args.out, {**old, **res}))
    if not args.models_dir:
        update_readme({**old, **res})
    if args.agreement:
        print("wrote", _write("agreement.json", agreement()))
    for name, r in res.items():
        for sl, m in r["slices"].items():
            keys = ("spearman", "binary_accuracy_at_1.5") if "spearman" in m else ("roc_auc", "precision", "recall")
            print(f"{name:8s} {sl:26s} n={m['n']:5d} " + " ".join(f"{k}={m[k]:.3f}" for k in keys))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
