"""The terminal of a run: one progress line, with every log line printed above it.

Beam's runner, its SDK worker processes (which inherit the launcher's stderr and write warnings
straight to file descriptor 2) and Python logging all share the terminal with the progress line.
Written as they come, a warning lands in the middle of the line being redrawn with ``\\r`` and
the two garble each other. :class:`Console` owns the real terminal instead:

- :meth:`Console.progress` redraws the progress line in place on a TTY (``\\r`` + erase to end of
  line), or writes it as one whole line elsewhere (a log file, CI);
- :meth:`Console.log` prints log text *above* the line: erase the line, print the text, redraw;
- :meth:`Console.capture_stderr` points file descriptor 2 at a pipe for the duration of a run
  (worker subprocesses started meanwhile inherit it) and feeds it to :meth:`Console.log` line by
  line; with ``worker_log`` those lines go to that file instead and the terminal keeps only the
  progress line. The same technique as ``tqdm.write`` and pip's spinner (write above the bar),
  applied at the file-descriptor level so that subprocesses are covered too.
"""
from __future__ import annotations

import contextlib
import os
import sys
import threading

ERASE = "\r\x1b[K"


class Console:
    def __init__(self, stream=None, worker_log: str | None = None):
        self.stream = stream or sys.stderr
        self.worker_log = worker_log
        self.line = ""
        self._lock = threading.RLock()
        self._log_fh = None

    def isatty(self) -> bool:
        return bool(getattr(self.stream, "isatty", lambda: False)())

    # ------------------------------------------------------------------ the two kinds of output
    def progress(self, line: str) -> None:
        with self._lock:
            self.line = line
            self.stream.write((ERASE + line) if self.isatty() else line + "\n")
            self.stream.flush()

    def log(self, text: str) -> None:
        """Whole log lines: to ``worker_log`` if set, else above the progress line."""
        if not text:
            return
        text = text if text.endswith("\n") else text + "\n"
        with self._lock:
            if self.worker_log:
                if self._log_fh is None:
                    self._log_fh = open(self.worker_log, "a", encoding="utf-8")
                self._log_fh.write(text)
                self._log_fh.flush()
                return
            if self.isatty() and self.line:
                self.stream.write(ERASE + text + self.line)
            else:
                self.stream.write(text)
            self.stream.flush()

    def end(self) -> None:
        """Leave the last progress line on screen and move below it."""
        with self._lock:
            if self.isatty() and self.line:
                self.stream.write("\n")
                self.stream.flush()
            self.line = ""

    # file-like, so code that writes to a stream can be given the console
    def write(self, text: str) -> int:
        self.log(text)
        return len(text)

    def flush(self) -> None:
        with self._lock:
            self.stream.flush()

    # ------------------------------------------------------------------ capturing fd 2
    @contextlib.contextmanager
    def capture_stderr(self, enabled: bool = True):
        """Route everything written to file descriptor 2 (this process and the subprocesses it
        starts) through :meth:`log` until the block ends."""
        try:
            fd = sys.__stderr__.fileno() if sys.__stderr__ else 2
        except (AttributeError, OSError, ValueError):
            fd = None
        if not enabled or fd != 2:
            yield self
            return
        sys.stderr.flush()
        saved = os.dup(2)
        if self._writes_fd2():
            # The console's own output must keep going to the real stderr.
            self.stream = os.fdopen(os.dup(saved), "w", encoding="utf-8", errors="replace", buffering=1)
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
        reader = threading.Thread(target=self._pump, args=(r,), name="swallow-stderr", daemon=True)
        reader.start()
        try:
            yield self
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            # Subprocesses that still hold the pipe keep the reader alive until they exit; lines
            # written up to now are drained first.
            reader.join(timeout=2)

    def _writes_fd2(self) -> bool:
        try:
            return self.stream.fileno() == 2
        except (AttributeError, OSError, ValueError):
            return False

    def _pump(self, r: int) -> None:
        buf = b""
        try:
            while True:
                # Read to EOF even after the block ended: a worker process still holding the pipe
                # must never meet a closed pipe (EPIPE) when it logs.
                chunk = os.read(r, 65536)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    whole, _, buf = buf.rpartition(b"\n")
                    self.log(whole.decode("utf-8", "replace"))
        finally:
            if buf:
                self.log(buf.decode("utf-8", "replace"))
            os.close(r)
