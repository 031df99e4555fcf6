"""The progress line stays truthful through aggregating stages, and log lines never go through it."""
import io
import os
import subprocess
import sys

from pipeline.console import ERASE, Console
from pipeline.progress import Progress, ProgressMonitor

STAGES = ["prefilter", "decode", "dedup", "hosts"]


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def counts(read_kept, **stages):
    """``name=(in, kept, rejected or failed)`` -> the heartbeat counters."""
    out = {"stage_kept.read": read_kept}
    for name, (n_in, kept, gone) in stages.items():
        out.update({f"stage_in.{name}": n_in, f"stage_kept.{name}": kept, f"stage_out.{name}": gone})
    return out


def _progress(clock):
    return Progress(10, stages=STAGES, rounds={"dedup": 20}, clock=clock)


def test_read_then_streaming_stage_with_its_own_eta():
    clock = Clock()
    p = _progress(clock)
    clock.t += 10
    p.update(files_done=5, records_read=500, records_done=100, counts={})
    d = p.as_dict()
    assert d["stage"] == "read" and d["eta_s"] == 10.0  # half the files in 10 s
    assert "read 500 records" in p.line() and "ETA read 0:00:10" in p.line()

    # The prefilter kept 50, but the shuffle in front of decode has delivered only 20 of them:
    # decode is the current stage, out of 50 (not finished because its own input is complete).
    p.update(files_done=10, records_read=1000, records_done=950,
             counts=counts(1000, prefilter=(1000, 50, 950), decode=(20, 10, 0)))
    assert p.as_dict()["stage_detail"] == "decode 10/50 pages"
    assert p.as_dict()["eta_s"] is None  # no rate yet
    clock.t += 4
    p.update(counts=counts(1000, prefilter=(1000, 50, 950), decode=(50, 25, 5)))
    d = p.as_dict()
    assert d["stage_detail"] == "decode 30/50 pages"
    assert d["eta_s"] == 4.0  # 20 more at 20 per 4 s


def test_dedup_rounds_instead_of_a_stalled_percentage_and_a_growing_eta():
    clock = Clock()
    p = _progress(clock)
    done_before = counts(1000, prefilter=(1000, 50, 950), decode=(50, 40, 10), dedup=(40, 0, 0))
    p.update(files_done=10, records_read=1000, records_done=960, counts=done_before)
    lines, etas = [], []
    for r in (1, 2, 3):
        clock.t += 60
        p.update(counts={**done_before, **{f"dedup_round.{k:02d}": 7 for k in range(1, r + 1)}})
        lines.append(p.line())
        etas.append(p.as_dict()["eta_s"])
    assert "dedup round 3/20 (40 pages in)" in lines[-1] and "96.0% out" in lines[-1]
    assert etas == [None, None, None] and lines[-1].endswith("ETA dedup ?")
    # dedup emits: the host filter is next; then everything has left the DAG.
    p.update(records_done=970, counts=counts(1000, prefilter=(1000, 50, 950), decode=(50, 40, 10),
                                             dedup=(40, 30, 10)))
    assert p.as_dict()["stage_detail"] == "hosts 0/30 pages"  # waiting for its input: not finished
    p.update(records_done=1000, counts=counts(1000, prefilter=(1000, 50, 950), decode=(50, 40, 10),
                                              dedup=(40, 30, 10), hosts=(30, 30, 0)))
    assert p.as_dict()["stage"] == "done" and "100.0% out" in p.line()


def test_a_stage_nothing_reached_counts_as_finished():
    p = Progress(1, stages=["prefilter", "decode"])
    p.update(files_done=1, records_read=3, records_done=1,
             counts=counts(3, prefilter=(3, 0, 3)))
    assert p.as_dict()["stage"] == "write"


def test_without_stages_the_line_is_unchanged():
    p = Progress(4, label="[v1] ")
    p.update(files_done=2)
    assert p.line().startswith("[v1]  50.0% files 2/4 | records done 0")


class TTY(io.StringIO):
    def isatty(self):
        return True


def test_console_prints_logs_above_the_progress_line_on_a_tty():
    out = TTY()
    c = Console(out)
    c.progress("10% line")
    c.log("WARNING worker: something")
    c.progress("20% line")
    c.end()
    assert out.getvalue() == (f"{ERASE}10% line" f"{ERASE}WARNING worker: something\n10% line"
                              f"{ERASE}20% line\n")


def test_console_without_a_tty_writes_whole_lines():
    out = io.StringIO()
    c = Console(out)
    c.progress("10% line")
    c.log("a warning")
    c.progress("20% line")
    assert out.getvalue().splitlines() == ["10% line", "a warning", "20% line"]


def test_worker_log_file_keeps_the_terminal_for_the_progress_line(tmp_path):
    out = TTY()
    c = Console(out, worker_log=str(tmp_path / "workers.log"))
    c.progress("50% line")
    c.log("WARNING from a worker")
    assert "WARNING" not in out.getvalue()
    assert (tmp_path / "workers.log").read_text() == "WARNING from a worker\n"


def test_subprocess_stderr_is_captured_and_printed_above_the_line():
    """SDK workers are subprocesses that inherit file descriptor 2: their warnings are routed
    through the console, never into the middle of the line being redrawn."""
    out = TTY()
    c = Console(out)
    with c.capture_stderr():
        c.progress("37% line")
        subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('W from a worker\\n')"], check=True)
        os.write(2, b"W from this process\n")
    c.end()
    text = out.getvalue()
    assert f"{ERASE}W from a worker\n37% line" in text
    assert f"{ERASE}W from this process\n37% line" in text
    assert "37% lineW" not in text  # never glued to the progress line


def test_monitor_draws_through_the_console():
    out = io.StringIO()
    c = Console(out)
    mon = ProgressMonitor(2, stream=c, stages=["decode"])
    mon.progress.update(files_done=2, records_read=4, records_done=4, counts={})
    mon.show()
    assert "all stages done" in out.getvalue()
