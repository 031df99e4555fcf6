"""Extract main text from HTML, with a hard per-document time limit.

``resiliparse`` (default, ~10× faster) or ``trafilatura`` (Swallow's choice:
``extract(html, include_comments=False, include_tables=False)``).

The time limit is enforced from *outside* the extraction call: resiliparse's main-content pass is
quadratic in nesting depth (20k nested ``<div>``: 8 s; 200k: many minutes) and runs in C, where
neither a thread nor a signal handler can interrupt it. Extraction therefore runs in a persistent
child process per worker; on timeout the child is killed (and restarted on the next document) and
the record becomes an ``extract_timeout`` error. A worker never hangs.
"""
from __future__ import annotations

import os
import select
import struct
import subprocess
import threading
import sys
import time
from dataclasses import dataclass
from typing import Literal

from transforms.config_fields import check
from transforms.records import RecordError

Extractor = Literal["resiliparse", "trafilatura"]


@dataclass(frozen=True)
class ExtractConfig:
    """``extractor``: ``resiliparse`` | ``trafilatura``. ``timeout_s``: hard limit per document
    (0 = run in-process without a limit, for benchmarks of the bare extractor only).
    ``max_html_chars``: larger decoded pages are an ``html_too_large`` error without parsing."""

    extractor: Extractor = "resiliparse"
    timeout_s: float = 5.0
    max_html_chars: int = 4_000_000

    def __post_init__(self):
        check(self, at_least_one=("max_html_chars",))


def drop_blank_lines(text: str) -> str:
    """resiliparse separates blocks with blank lines; line-based rules must not see them, else
    the duplicate-line rule rejects most good pages (measured on the sample: 40 vs ~112 pass)."""
    return "\n".join(line.strip() for line in text.split("\n") if line.strip())


def extract_resiliparse(html: str) -> str:
    from resiliparse.extract.html2text import extract_plain_text

    text = extract_plain_text(html, main_content=True, alt_texts=False, list_bullets=False,
                              comments=False, preserve_formatting=True)
    return drop_blank_lines(text)


def extract_trafilatura(html: str) -> str:
    import trafilatura

    text = trafilatura.extract(html, include_comments=False, include_tables=False)
    return drop_blank_lines(text or "")


EXTRACTORS = {"resiliparse": extract_resiliparse, "trafilatura": extract_trafilatura}


_SPAWNER = None
_SPAWNER_LOCK = threading.Lock()


def _spawner():
    global _SPAWNER
    with _SPAWNER_LOCK:
        if _SPAWNER is None:
            from concurrent.futures import ThreadPoolExecutor

            _SPAWNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="extract-spawner")
        return _SPAWNER


class TimeLimitedExtractor:
    """``extract(html) -> text`` in a child process with a hard wall-clock limit.

    The child is a plain ``python -m transforms.extract_worker`` speaking length-prefixed frames
    over its stdin/stdout (not ``multiprocessing``: Beam workers run gRPC threads, forking them can
    deadlock, and spawn re-imports the parent's ``__main__``). The child dies with its parent
    (``transforms/extract_worker.py``: prctl PR_SET_PDEATHSIG, else a watchdog thread): a killed
    worker leaves no extraction running on a pathological page."""

    def __init__(self, extractor: str, timeout_s: float):
        self.extractor = extractor
        self.timeout_s = timeout_s
        self._proc = None

    def __getstate__(self):
        return {"extractor": self.extractor, "timeout_s": self.timeout_s, "_proc": None}

    def _start(self):
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        # Started from one long-lived thread: the child asks the kernel to kill it when the thread
        # that started it ends (PR_SET_PDEATHSIG follows the thread), which is then only when this
        # worker process dies, however Beam's bundle threads come and go.
        self._proc = _spawner().submit(
            subprocess.Popen, [sys.executable, "-m", "transforms.extract_worker", self.extractor, str(os.getpid())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0,
        ).result()

    def close(self):
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait(timeout=10)
            for f in (self._proc.stdin, self._proc.stdout):
                f.close()
        self._proc = None

    def _read_exact(self, n: int, deadline: float) -> bytes:
        fd = self._proc.stdout.fileno()
        chunks, got = [], 0
        while got < n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def extract(self, html: str) -> str:
        if self.timeout_s == 0:
            return EXTRACTORS[self.extractor](html)
        if self._proc is None or self._proc.poll() is not None:
            self.close()
            self._start()
        payload = html.encode("utf-8", "surrogatepass")
        deadline = time.monotonic() + self.timeout_s
        try:
            self._proc.stdin.write(struct.pack("<I", len(payload)) + payload)
            status, n = struct.unpack("<BI", self._read_exact(5, deadline))
            body = self._read_exact(n, deadline).decode("utf-8", "surrogatepass")
        except TimeoutError:
            self.close()
            raise RecordError("extract_timeout", f"{self.extractor} exceeded {self.timeout_s:g} s") from None
        except (EOFError, OSError, struct.error):
            self.close()
            raise RecordError("extract_crash", f"{self.extractor} child process died") from None
        if status != 0:
            raise RecordError("extract_error", body)
        return body


class ExtractRule:
    """``html`` → ``text`` (+ ``text_chars``); the HTML is dropped here. Empty text is a drop."""

    name = "extract"

    def __init__(self, cfg: ExtractConfig = ExtractConfig()):
        self.cfg = cfg
        self.extractor = TimeLimitedExtractor(cfg.extractor, cfg.timeout_s)

    def setup(self):
        pass  # the child starts lazily on the first document

    def teardown(self):
        self.extractor.close()

    def __call__(self, record: dict) -> tuple[dict, str | None]:
        html = record["html"]
        if len(html) > self.cfg.max_html_chars:
            raise RecordError("html_too_large",
                              f"{len(html)} chars > max_html_chars={self.cfg.max_html_chars}")
        text = self.extractor.extract(html)
        out = {k: v for k, v in record.items() if k != "html"}
        out["text"] = text
        out["text_chars"] = len(text)
        return out, (None if text else "extract_empty_v1")
