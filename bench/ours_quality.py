"""Our v1 quality rules (+ NG-word fraction) on a JSONL of texts, in-process, one core (workload 2).
Run as a subprocess by the harness so that it is measured like the contenders. Last stdout line:
JSON result."""
from __future__ import annotations

import json
import sys
import time


def main(docs_path: str):
    from transforms.harmful import HarmfulConfig, automaton, ng_fraction
    from transforms.quality import QualityConfig, decide, measure

    cfg, hcfg = QualityConfig(), HarmfulConfig()
    auto = automaton(hcfg.ngwords)
    with open(docs_path) as f:
        texts = [json.loads(line)["text"] for line in f]
    measure(texts[0], cfg)
    t = time.perf_counter()
    kept = 0
    for text in texts:
        v = measure(text, cfg)
        if decide(v, cfg) is None:
            frac, _ = ng_fraction(text, auto, int(v.get("ja_chars", 0)) or None)
            kept += frac < hcfg.max_ng_fraction
    wall = time.perf_counter() - t
    print(json.dumps({"seconds": wall, "docs": len(texts), "kept": kept}))


if __name__ == "__main__":
    main(sys.argv[1])
