"""A killed worker leaves no extraction child running, even one busy on a pathological page."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

PARENT = textwrap.dedent("""
    import sys, threading
    from transforms.extract import TimeLimitedExtractor
    ext = TimeLimitedExtractor("resiliparse", 600)
    page = '<html lang="ja"><body>' + '<div>' * 200_000 + 'x' + '</div>' * 200_000
    t = threading.Thread(target=lambda: ext.extract(page), daemon=True)  # a bundle thread
    t.start()
    while ext._proc is None:
        pass
    print(ext._proc.pid, flush=True)
    t.join()
""")


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="checks /proc")
def test_extraction_child_dies_with_its_parent():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, cwd=root, text=True)
    child = int(parent.stdout.readline())
    time.sleep(1.0)  # the child is now deep in the page
    assert _alive(child)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 10
    while _alive(child) and time.time() < deadline:
        time.sleep(0.1)
    assert not _alive(child)
