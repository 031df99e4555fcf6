"""Held-out evaluation with scikit-learn (issue 5 §2): binary → precision/recall/F1/ROC-AUC (at
threshold 0.5 unless given); 4-class educational score → accuracy (argmax label), RMSE and MAE of
the expected score Σ l·p against the gold label, and binary accuracy at 1.5 (score ≥ 1.5 vs gold ≥ 2)."""
from __future__ import annotations

import math


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


def edu_metrics(gold: list[int], scores: list[float], argmax: list[int]) -> dict:
    from sklearn.metrics import accuracy_score, mean_absolute_error, mean_squared_error

    return {"n": len(gold),
            "accuracy": float(accuracy_score(gold, argmax)),
            "rmse": float(math.sqrt(mean_squared_error(gold, scores))),
            "mae": float(mean_absolute_error(gold, scores)),
            "binary_accuracy_at_1.5": float(accuracy_score([int(g >= 2) for g in gold],
                                                           [int(s >= 1.5) for s in scores])),
            "label_counts": {str(k): int(sum(1 for g in gold if g == k)) for k in range(4)}}
