"""Hyper-parameter search by grouped cross-validation on the ``dev`` split only.

    python -m classifiers.search --model medical     # → classifiers/results/search_medical.json

Folds: the dev groups (hosts, documents, corpora; :mod:`classifiers.datasets`) sorted by hash and
dealt into ``--folds`` folds, so no group is in a fold's training and test data at once. Corpus
supplements are always trained on and never scored. Each setting of the spec's grid is trained
``--folds`` times (fastText, one thread, seed 0: reproducible) and scored out of fold; the
setting with the best ``spec.select`` on ``spec.select_on`` is chosen, and for a binary model the
decision threshold is the F1-best threshold of its out-of-fold scores on that slice.
:mod:`classifiers.train` (``--model``) then trains on all of dev with the chosen setting.
"""
from __future__ import annotations

import argparse
import json
import time

from classifiers import specs as S
from classifiers.datasets import _h
from classifiers.evaluate import _write, best_f1_threshold, slice_metrics


def fit_args(spec: S.Spec, params: dict, seed: int = 0, threads: int = 1) -> argparse.Namespace:
    return argparse.Namespace(seed=seed, out="model.ftz", max_chars=spec.max_chars, threads=threads,
                              lr=params["lr"], epoch=params["epoch"], dim=params["dim"],
                              min_count=params["min_count"], bucket=params["bucket"], cutoff=params["cutoff"])


def score_rows(model, spec: S.Spec, rows: list[dict]) -> dict[str, float]:
    from classifiers.ft import features, score_from

    labels, probs = model.predict([features(r["text"], spec.max_chars) for r in rows], k=-1)
    return {r["uid"]: score_from(lab, pr, spec.kind) for r, lab, pr in zip(rows, labels, probs)}


def out_of_fold(spec: S.Spec, dev: list[dict], params: dict, folds: int) -> dict[str, float]:
    from classifiers.train import fit

    def group(r: dict) -> str:
        return r["uid"] if r["group"] in spec.cv_by_document else r["group"]

    corpus = ("corpus:", "wikipedia:")
    scored = [r for r in dev if not r["group"].startswith(corpus) or r["group"] in spec.cv_by_document]
    always = [r for r in dev if r["group"].startswith(corpus) and r["group"] not in spec.cv_by_document]
    groups = sorted({group(r) for r in scored}, key=_h)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    oof: dict[str, float] = {}
    for k in range(folds):
        train = [(r["text"], r[spec.label]) for r in scored if fold_of[group(r)] != k]
        train += [(r["text"], r[spec.label]) for r in always]
        model = fit(train, fit_args(spec, params))
        oof.update(score_rows(model, spec, [r for r in scored if fold_of[group(r)] == k]))
    return oof


def search(spec: S.Spec, folds: int = 4, shared: str | None = None) -> dict:
    dev = [r for r in S.rows(spec, shared) if r["split"] == "dev"]
    keep = S.evaluation_slices(spec)[spec.select_on]
    trials = []
    for params in spec.grid:
        t0 = time.time()
        oof = out_of_fold(spec, dev, params, folds)
        scored = [r for r in dev if r["uid"] in oof]
        metrics = slice_metrics(spec, scored, oof, None)
        target = [r for r in scored if keep(r)]
        thr = (best_f1_threshold([int(r[spec.label]) for r in target], [oof[r["uid"]] for r in target])
               if spec.kind == "binary" else None)
        trials.append({"params": params, "select": metrics[spec.select_on][spec.select], "threshold": thr,
                       "slices": metrics, "seconds": round(time.time() - t0, 1)})
        print(f"{spec.name} {params} {spec.select}({spec.select_on})={trials[-1]['select']:.4f}"
              + (f" threshold={thr:.4f}" if thr is not None else ""), flush=True)
    best = max(trials, key=lambda t: t["select"])
    return {"model": spec.name, "folds": folds, "select": f"{spec.select} on {spec.select_on}",
            "dev_rows": len(dev), "chosen": {"params": best["params"], "threshold": best["threshold"]},
            "trials": trials}


def chosen(name: str) -> dict:
    """The committed search result's chosen setting (``classifiers/results/search_<name>.json``)."""
    import os

    from classifiers.evaluate import RESULTS

    path = os.path.join(RESULTS, f"search_{name}.json")
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path} not found: run python -m classifiers.search --model {name}")
    with open(path, encoding="utf-8") as f:
        return json.load(f)["chosen"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m classifiers.search", description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True, choices=sorted(S.SPECS))
    ap.add_argument("--folds", type=int, default=4)
    ap.add_argument("--shared", default=None, help="the shared data directory (default ../shared/data)")
    args = ap.parse_args(argv)
    result = search(S.get(args.model), args.folds, args.shared)
    print("wrote", _write(f"search_{args.model}.json", result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
