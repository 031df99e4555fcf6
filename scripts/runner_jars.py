"""Fetch Beam's Flink and Spark job servers from Maven Central with Maven, cache them, print the flags.

    python scripts/runner_jars.py flink      # or spark, or both (default)

Prints the flags to add to ``python -m pipeline run`` (one line per runner on stdout; where the jar
came from on stderr). The jars are cached under ``.runner-jars/`` (git-ignored; ``RUNNER_JARS_DIR``
moves it); a second call finds them there and starts no Maven.

Where a job server comes from, in order:

1. Beam's released job-server jar for the installed SDK's version
   (``org.apache.beam:beam-runners-flink-1.19-job-server`` / ``beam-runners-spark-3-job-server``),
   as ``FlinkRunner`` itself would download it (``apache_beam/runners/portability/job_server.py``).
2. Where the repository serves no such jar (the Maven Central these machines reach serves none,
   for any Beam version), the same job server assembled from its parts: Maven resolves the runner
   artifact (``beam-runners-flink-1.19`` / ``beam-runners-spark-3`` plus Spark 3.5, which the
   runner declares ``provided``) with every dependency into ``lib/``, and a launcher jar holds only
   a manifest: ``Main-Class`` (the job-server driver, as in the released jar), ``Class-Path`` (the
   ``lib/`` jars) and, for Spark on Java 17, ``Add-Opens``. ``java -jar launcher.jar`` then runs
   exactly what the released jar runs; ``--flink_job_server_jar`` / ``--spark_job_server_jar``
   take it. The newest Beam version whose runner closure resolves there is
   ``ASSEMBLED_BEAM_VERSION``; the Python SDK (2.77) talks to that Java job server over the
   portable Job API (a supported version skew for LOOPBACK/PROCESS/EXTERNAL workers: the Java
   side never runs Python code).
"""
from __future__ import annotations

import fcntl
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

ROOT = pathlib.Path(__file__).resolve().parents[1]
CACHE = pathlib.Path(os.environ.get("RUNNER_JARS_DIR", ROOT / ".runner-jars"))

FLINK_VERSION = "1.19"  # the newest Flink whose Beam runner artifact the mirror resolves
SPARK_VERSION = "3.5.1"  # Java 17 needs Spark >= 3.3; Beam's Spark 3 runner compiles against 3.2
# The newest Beam whose runner artifacts resolve with all their dependencies (2.70.0's
# beam-runners-java-job-service is not served; 2.62.0's is).
ASSEMBLED_BEAM_VERSION = "2.62.0"

# Spark on Java 17: the packages Spark's own launcher opens (spark/launcher JavaModuleOptions).
SPARK_OPENS = ("java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util "
               "java.util.concurrent java.util.concurrent.atomic sun.nio.ch sun.nio.cs "
               "sun.security.action sun.util.calendar").split()

RUNNERS = {
    "flink": {
        "released": f"beam-runners-flink-{FLINK_VERSION}-job-server",
        "parts": [("org.apache.beam", f"beam-runners-flink-{FLINK_VERSION}", None)],
        "main": "org.apache.beam.runners.flink.FlinkJobServerDriver",
        "opens": [],
        "flags": lambda jar: [
            "--runner=FlinkRunner", f"--flink_job_server_jar={jar}", f"--flink_version={FLINK_VERSION}",
            "--flink_master=[local]", "--parallelism=2", "--environment_type=LOOPBACK"],
    },
    "spark": {
        "released": "beam-runners-spark-3-job-server",
        "parts": [("org.apache.beam", "beam-runners-spark-3", None),
                  ("org.apache.spark", "spark-core_2.12", SPARK_VERSION),
                  ("org.apache.spark", "spark-streaming_2.12", SPARK_VERSION)],
        "main": "org.apache.beam.runners.spark.SparkJobServerDriver",
        "opens": SPARK_OPENS,
        "flags": lambda jar: [
            "--runner=SparkRunner", f"--spark_job_server_jar={jar}", "--spark_master_url=local[2]",
            "--environment_type=LOOPBACK"],
    },
}


class MissingTool(RuntimeError):
    """java or mvn is not on PATH."""


def sdk_version() -> str:
    import apache_beam

    return apache_beam.__version__


def _mvn(args: list[str], cwd: pathlib.Path) -> subprocess.CompletedProcess:
    if shutil.which("mvn") is None:
        raise MissingTool("mvn not found on PATH: Maven fetches the job servers (cached ones need none)")
    return subprocess.run(["mvn", "-B", "-q", *args], cwd=cwd, capture_output=True, text=True)


def _released(name: str, version: str) -> pathlib.Path | None:
    """Beam's released job-server jar, or None where the repository does not serve it."""
    artifact = RUNNERS[name]["released"]
    out = CACHE / name / f"released-{version}"
    jar = out / f"{artifact}-{version}.jar"
    if jar.exists():
        return jar
    if (out / "NOT_SERVED").exists():
        return None
    out.mkdir(parents=True, exist_ok=True)
    r = _mvn(["dependency:copy", f"-Dartifact=org.apache.beam:{artifact}:{version}:jar",
              f"-DoutputDirectory={out}"], cwd=out)
    if r.returncode == 0 and jar.exists():
        return jar
    said = r.stdout + r.stderr
    # Maven words "not served" differently the first time ("Could not find artifact") and once the
    # miss is cached in ~/.m2 ("Unable to find artifact ... was not found in ... previous attempt")
    if any(w in said for w in ("Could not find artifact", "Unable to find artifact", "was not found in")):
        (out / "NOT_SERVED").write_text(f"org.apache.beam:{artifact}:{version} not served\n")
        return None
    # any other failure (network, repository): not cached as "not served", the assembled job server
    # is tried instead, and only its failure is an error
    print(f"mvn dependency:copy {artifact}:{version} failed; assembling the job server instead:\n"
          f"{said[-1000:]}", file=sys.stderr)
    return None


def _pom(name: str, version: str) -> str:
    deps = "\n".join(
        f"    <dependency><groupId>{g}</groupId><artifactId>{a}</artifactId>"
        f"<version>{v or version}</version></dependency>" for g, a, v in RUNNERS[name]["parts"])
    return textwrap.dedent("""\
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>local.swallow</groupId><artifactId>{name}-job-server</artifactId><version>{version}</version>
          <dependencies>
        {deps}
          </dependencies>
        </project>
        """).format(name=name, version=version, deps=deps)


def _manifest_line(key: str, value: str) -> str:
    # Manifest lines are at most 72 bytes; a continuation line starts with one space.
    text, lines = f"{key}: {value}", []
    lines.append(text[:70])
    text = text[70:]
    while text:
        lines.append(" " + text[:69])
        text = text[69:]
    return "\n".join(lines) + "\n"


def _assembled(name: str, version: str) -> pathlib.Path:
    spec = RUNNERS[name]
    out = CACHE / name / f"assembled-{version}"
    jar = out / f"{name}-job-server-{version}.jar"
    if jar.exists():
        return jar
    out.mkdir(parents=True, exist_ok=True)
    (out / "pom.xml").write_text(_pom(name, version))
    shutil.rmtree(out / "lib", ignore_errors=True)
    r = _mvn(["dependency:copy-dependencies", "-DoutputDirectory=lib", "-DincludeScope=runtime"], cwd=out)
    if r.returncode != 0:
        raise RuntimeError(f"mvn could not resolve the {name} runner {version}:\n{r.stdout[-3000:]}{r.stderr[-2000:]}")
    libs = sorted(p.name for p in (out / "lib").glob("*.jar"))
    manifest = "Manifest-Version: 1.0\n" + _manifest_line("Main-Class", spec["main"])
    if spec["opens"]:
        manifest += _manifest_line("Add-Opens", " ".join(f"java.base/{p}" for p in spec["opens"]))
    manifest += _manifest_line("Class-Path", " ".join(f"lib/{x}" for x in libs))
    import zipfile

    tmp = jar.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", manifest)
    tmp.rename(jar)  # last: a jar present means a complete lib/
    return jar


def fetch(name: str) -> tuple[pathlib.Path, str]:
    """The job-server jar for runner ``name`` and a line saying where it came from."""
    if shutil.which("java") is None:
        raise MissingTool(f"java not found on PATH: the {name} job server needs Java 17")
    version = sdk_version()
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / ".lock", "w") as lock:  # parallel test workers fetch once
        fcntl.flock(lock, fcntl.LOCK_EX)
        jar = _released(name, version)
        if jar is not None:
            return jar, f"{name}: Beam's released job server {version}"
        jar = _assembled(name, ASSEMBLED_BEAM_VERSION)
    return jar, (f"{name}: org.apache.beam:{RUNNERS[name]['released']}:{version} is not served by Maven "
                 f"Central here; job server assembled from Beam {ASSEMBLED_BEAM_VERSION}'s runner artifacts")


def flags(name: str, jar: pathlib.Path) -> list[str]:
    return RUNNERS[name]["flags"](jar)


def main(argv: list[str]) -> int:
    names = argv or ["flink", "spark"]
    if any(n not in RUNNERS for n in names) or "-h" in names or "--help" in names:
        print("usage: python scripts/runner_jars.py [flink] [spark]", file=sys.stderr)
        return 0 if ("-h" in names or "--help" in names) else 2
    for name in names:
        try:
            jar, origin = fetch(name)
        except MissingTool as e:
            print(e, file=sys.stderr)
            return 1
        print(origin, file=sys.stderr)
        print(" ".join(f"'{f}'" if "[" in f else f for f in flags(name, jar)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
