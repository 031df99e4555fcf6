"""hojichar 0.18.1 contender (workload 2); run with the hojichar venv's interpreter.

The closest Japanese filters to our v1 rules (document length, hiragana/Japanese presence, NG
words, repetition, sentence length, ellipsis, short lines), composed as hojichar users do, applied
in-process on one core to a JSONL of texts. Last stdout line: JSON result."""
from __future__ import annotations

import json
import sys
import time


def main(docs_path: str):
    import hojichar
    from hojichar import document_filters as F

    cleaner = hojichar.Compose([
        F.AcceptJapanese(),
        F.DocumentLengthFilter(min_doc_len=400),
        F.DiscardAdultContentJa(),
        F.DiscardDiscriminationContentJa(),
        F.DiscardViolenceContentJa(),
        F.CharRepetitionRatioFilter(),
        F.SingleCharacterRepetitionFilter(),
        F.DiscardRareKuten(),
        F.DiscardTooManyEndingEllipsis(),
        F.DiscardTooShortLines(),
    ])
    with open(docs_path) as f:
        texts = [json.loads(line)["text"] for line in f]
    cleaner.apply(hojichar.Document(texts[0]))  # warm up (dictionaries load lazily)
    t = time.perf_counter()
    kept = 0
    for text in texts:
        kept += not cleaner.apply(hojichar.Document(text)).is_rejected
    wall = time.perf_counter() - t
    print(json.dumps({"seconds": wall, "docs": len(texts), "kept": kept,
                      "filters": [type(f).__name__ for f in cleaner.filters]}))


if __name__ == "__main__":
    main(sys.argv[1])
