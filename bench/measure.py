"""Run one contender as a subprocess and measure it: wall seconds, CPU seconds of the whole
process tree (user + sys, from ``RUSAGE_CHILDREN``), peak RSS of the tree (sum over live
processes, sampled every 0.1 s) and the JSON the contender prints on its last stdout line."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import threading
import time


def _psutil():
    """psutil (the bench extra) is imported when a contender is measured, so the pure helpers of
    the bench modules import without it."""
    import psutil

    return psutil


def _role(p, root) -> str:
    """A short name for a process of the tree: ``main`` (the contender itself), ``sdk_worker``
    (a Beam SDK worker process), else the executable's name."""
    psutil = _psutil()
    if p.pid == root.pid:
        return "main"
    try:
        cmd = " ".join(p.cmdline())
    except psutil.Error:
        return "?"
    return "sdk_worker" if "sdk_worker" in cmd or "worker_pool" in cmd else (p.name() or "?")


def _tree_sample(proc, cpu: dict, per_proc: dict | None = None) -> int:
    """RSS of the tree now; updates ``cpu[pid] = user + sys`` (last seen) for every process and
    ``per_proc[pid] = (role, peak RSS)``."""
    psutil = _psutil()
    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            with p.oneshot():
                rss = p.memory_info().rss
                total += rss
                if per_proc is not None:
                    key = (p.pid, p.create_time())
                    role, peak = per_proc.get(key) or (_role(p, proc), 0)
                    per_proc[key] = (role, max(peak, rss))
                t = p.cpu_times()
                cpu[(p.pid, p.create_time())] = t.user + t.system
        except psutil.Error:
            pass
    return total


def run_measured(cmd: list[str], timeout_s: float, env: dict | None = None, cwd: str | None = None,
                 log_path: str | None = None) -> dict:
    """``{"ok", "wall_s", "cpu_s", "peak_rss_mb", "result" (parsed last JSON line) | "error"}``."""
    psutil = _psutil()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    out_f = open(log_path, "w") if log_path else subprocess.DEVNULL
    peak = [0]
    sampled_cpu: dict = {}
    per_proc: dict = {}
    stop = threading.Event()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=out_f, env=env, cwd=cwd, text=True)

    def sample():
        try:
            ps = psutil.Process(proc.pid)
        except psutil.Error:
            return
        while not stop.is_set():
            peak[0] = max(peak[0], _tree_sample(ps, sampled_cpu, per_proc))
            stop.wait(0.1)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    try:
        stdout, _ = proc.communicate(timeout=timeout_s)
        timed_out = False
    except subprocess.TimeoutExpired:
        for child in psutil.Process(proc.pid).children(recursive=True):
            try:
                child.kill()
            except psutil.Error:
                pass
        proc.kill()
        stdout, _ = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - started
    stop.set()
    t.join()
    if log_path:
        out_f.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU of the whole tree: waited descendants (rusage) or, where a runner does not wait for its
    # workers, the sum of per-process CPU sampled every 0.1 s (whichever is larger).
    cpu = max((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), sum(sampled_cpu.values()))
    roles: dict = {}
    for role, rss in per_proc.values():  # peak RSS of each process, by role (largest first)
        roles.setdefault(role, []).append(round(rss / 2**20, 1))
    cpu_roles: dict = {}
    for key, c in sampled_cpu.items():  # CPU by role, as last sampled (a lower bound per process)
        role = (per_proc.get(key) or ("?", 0))[0]
        cpu_roles[role] = round(cpu_roles.get(role, 0.0) + c, 2)
    res = {"ok": False, "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "peak_rss_mb": round(peak[0] / 2**20, 1),
           "peak_rss_by_process_mb": {r: sorted(v, reverse=True) for r, v in roles.items()},
           "sampled_cpu_s_by_process": cpu_roles}
    if timed_out:
        res["error"] = f"timed out after {timeout_s:.0f} s"
        return res
    if proc.returncode != 0:
        tail = ""
        if log_path and os.path.exists(log_path):
            with open(log_path, errors="replace") as f:
                tail = " | ".join(f.read().strip().splitlines()[-4:])
        res["error"] = f"exit {proc.returncode}: {tail}"[:1500]
        return res
    lines = [l for l in (stdout or "").strip().splitlines() if l.startswith("{")]
    if not lines:
        res["error"] = "no JSON result on stdout"
        return res
    res["result"] = json.loads(lines[-1])
    res["ok"] = True
    return res


def dir_bytes(path: str) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total
