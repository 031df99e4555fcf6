"""Wall and CPU seconds per 1,000 WARC records of recipe v1 on FnApiRunner, FlinkRunner's job server
([local] mini-cluster) and SparkRunner's job server (local[2]), LOOPBACK workers, same input.

    python bench/runners_bench.py [N_SHARDS]      # default: all 10 sample shards

The job server is started here (``java -jar``, as FlinkRunner/SparkRunner would) and reached with
``--runner=PortableRunner --job_endpoint``, so its CPU (the JVM) is counted with the SDK workers'
(``RUSAGE_CHILDREN`` after it exits). Prints one JSON line per runner.
"""
from __future__ import annotations

import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [ROOT, os.path.join(ROOT, "scripts")]

from pipeline import cli  # noqa: E402
import runner_jars  # noqa: E402
from tests.conftest import SAMPLE_WARCS  # noqa: E402

SERVER_ARGS = {"flink": ["--flink-master", "[local]"], "spark": ["--spark-master-url", "local[2]"]}


def _cpu() -> float:
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def _port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


def bench(name: str, shards: list[str]) -> dict:
    out = tempfile.mkdtemp(prefix=f"bench-{name}-")
    args = [*sum((["--input", p] for p in shards), []), "--output", out, "--recipe", "v1", "--no_progress"]
    server = None
    cpu0, t0 = _cpu(), time.time()
    if name == "fnapi":
        args += ["--runner=FnApiRunner", "--direct_num_workers=1"]
    else:
        jar, _ = runner_jars.fetch(name)
        port = _port()
        java = ["java", *(f"--add-opens=java.base/{p}=ALL-UNNAMED" for p in runner_jars.RUNNERS[name]["opens"])]
        server = subprocess.Popen([*java, "-jar", str(jar), *SERVER_ARGS[name], "--job-port", str(port),
                                   "--artifact-port", "0", "--expansion-port", "-1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        args += ["--runner=PortableRunner", f"--job_endpoint=localhost:{port}", "--environment_type=LOOPBACK"]
        if name == "flink":
            args.append("--parallelism=2")
    try:
        r = cli.run(args)
    finally:
        if server is not None:
            server.terminate()
            server.wait()
    wall, cpu = time.time() - t0, _cpu() - cpu0
    n = r["records_read"]
    return {"runner": name, "records": n, "kept": r["kept"], "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "wall_s_per_1000": round(wall * 1000 / n, 1), "cpu_s_per_1000": round(cpu * 1000 / n, 1),
            "metrics": bool(r.get("metrics"))}


if __name__ == "__main__":
    shards = SAMPLE_WARCS[: int(sys.argv[1])] if len(sys.argv) > 1 else SAMPLE_WARCS
    for name in ("fnapi", "flink", "spark"):
        print(json.dumps(bench(name, shards)), flush=True)
