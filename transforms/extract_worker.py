"""Child process of :class:`transforms.extract.TimeLimitedExtractor`.

Frames: request = u32 length + UTF-8 HTML; reply = u8 status (0 ok, 1 error) + u32 length +
UTF-8 text or error message. Exits when its stdin closes, and dies with its parent even in the
middle of a page (Linux ``prctl(PR_SET_PDEATHSIG, SIGKILL)``, as Chromium's zygote and
``torch.utils.data`` workers do; elsewhere a thread that watches ``getppid()``).
"""
from __future__ import annotations

import os
import signal
import struct
import sys
import threading
import time

PR_SET_PDEATHSIG = 1


def die_with_parent(parent_pid: int) -> None:
    """SIGKILL this process when the parent dies (or has already died before this call)."""
    armed = False
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if not armed:  # a watchdog: runs whenever the extractor lets go of the GIL
        def watch():
            while os.getppid() == parent_pid:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _read_exact(f, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def main(extractor: str) -> None:
    from transforms.extract import EXTRACTORS

    fn = EXTRACTORS[extractor]
    fin, fout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        head = _read_exact(fin, 4)
        if head is None:
            return
        (n,) = struct.unpack("<I", head)
        html = _read_exact(fin, n).decode("utf-8", "surrogatepass")
        try:
            status, text = 0, fn(html)
        except Exception as e:  # reported to the parent as an extract_error
            status, text = 1, f"{type(e).__name__}: {e}"
        out = text.encode("utf-8", "surrogatepass")
        fout.write(struct.pack("<BI", status, len(out)) + out)
        fout.flush()


if __name__ == "__main__":
    if len(sys.argv) > 2:
        die_with_parent(int(sys.argv[2]))
    main(sys.argv[1])
