"""Language ID and fastText quality/domain classifiers: train, evaluate, apply."""
