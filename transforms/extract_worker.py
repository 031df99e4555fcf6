"""Child process of :class:`transforms.extract.TimeLimitedExtractor`.

Frames: request = u32 length + UTF-8 HTML; reply = u8 status (0 ok, 1 error) + u32 length +
UTF-8 text or error message. Exits when its stdin closes.
"""
from __future__ import annotations

import struct
import sys


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
    main(sys.argv[1])
