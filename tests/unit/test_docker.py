"""What can be checked of the images and scheduler examples without a Docker engine: versions in
Dockerfiles agree with setup.py, every COPY source exists, entrypoints exist as modules/files,
the Flex Template metadata is valid, the shell scripts parse, the Airflow DAG compiles (and
imports, where Airflow is installed)."""
from __future__ import annotations

import ast
import importlib.util
import json
import pathlib
import re
import shutil
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCKERFILES = sorted(p for p in (ROOT / "docker").rglob("*Dockerfile*") if p.is_file())


def setup_constants() -> dict:
    tree = ast.parse((ROOT / "setup.py").read_text())
    out = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    out[t.id] = node.value.value
    src = (ROOT / "setup.py").read_text()
    torch = re.search(r'"torch==([^"]+)"', src)
    out["TORCH"] = torch.group(1) if torch else None
    return out


def _instructions(path: pathlib.Path) -> list[tuple[str, str]]:
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_there_are_dockerfiles():
    names = {p.name for p in DOCKERFILES}
    assert "worker.Dockerfile" in names and "launcher.Dockerfile" in names


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_beam_and_python_versions_agree_with_setup(path):
    c = setup_constants()
    for word, rest in _instructions(path):
        if word != "FROM":
            continue
        m = re.match(r"apache/beam_python(\d+)\.(\d+)_sdk:(\S+)", rest)
        if m:
            assert m.group(3) == c["BEAM_VERSION"], f"{path.name}: beam {m.group(3)} != setup.py {c['BEAM_VERSION']}"
            assert (int(m.group(1)), int(m.group(2))) >= (3, 10)
        m = re.match(r"\S*python(\d)(\d+)-template-launcher-base", rest)
        if m:  # launcher's Python must match the worker's (cloudpickle across versions fails)
            sdk = [re.match(r"apache/beam_python(\d+)\.(\d+)_sdk", r) for w, r in _instructions(path) if w == "FROM"]
            sdk = [s for s in sdk if s]
            assert sdk and (m.group(1), m.group(2)) == sdk[0].groups()
        m = re.match(r"\S*pytorch[:/]\S*?(\d+\.\d+\.\d+)", rest)
        if m and c["TORCH"]:
            assert m.group(1) == c["TORCH"], f"{path.name}: torch {m.group(1)} != setup.py {c['TORCH']}"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_copy_source_exists(path):
    for word, rest in _instructions(path):
        if word not in ("COPY", "ADD"):
            continue
        args = [a for a in rest.split() if not a.startswith("--")]
        if "--from=" in rest:
            continue  # from another build stage
        for src in args[:-1]:
            assert list(ROOT.glob(src)), f"{path.name}: COPY source {src} does not exist (context = repo root)"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_entrypoints_exist(path):
    text = re.sub(r"\\\n", " ", path.read_text())
    for mod in re.findall(r"python3? -m ([\w.]+)", text):
        if mod not in ("pip",):
            assert importlib.util.find_spec(mod) is not None, f"{path.name}: no module {mod}"
    for f in re.findall(r"FLEX_TEMPLATE_PYTHON_PY_FILE=(\S+)", text):
        assert (ROOT / f.replace("/template/", "", 1)).is_file(), f
    for code in re.findall(r'python3? -c "([^"]+)"', text):  # build-time smoke checks
        for stmt in code.split(";"):
            stmt = stmt.strip()
            if stmt.startswith("import "):
                mods = [m.strip() for m in stmt[len("import "):].split(",")]
            elif stmt.startswith("from "):
                mods = [stmt.split()[1]]
            else:
                continue
            for mod in mods:
                assert importlib.util.find_spec(mod) is not None, f"{path.name}: no module {mod}"
    for word, rest in _instructions(path):
        if word in ("ENTRYPOINT", "CMD") and rest.startswith("["):
            argv = json.loads(rest)
            if argv[:2] in (["python", "-m"], ["python3", "-m"]):
                assert importlib.util.find_spec(argv[2]) is not None, argv


def test_trainer_image_uses_trainer_extra_if_present():
    path = ROOT / "docker" / "trainer.Dockerfile"
    if not path.exists():
        pytest.skip("docker/trainer.Dockerfile not in this checkout (trainer issue)")
    text = path.read_text()
    assert "[trainer]" in text or "trainer" in text


def test_flex_template_metadata_and_entrypoint():
    meta = json.loads((ROOT / "docker" / "flex_template" / "metadata.json").read_text())
    names = [p["name"] for p in meta["parameters"]]
    assert {"input", "output", "command"} <= set(names) and len(names) == len(set(names))
    for p in meta["parameters"]:
        for rx in p.get("regexes", []):
            re.compile(rx)
    spec = importlib.util.spec_from_file_location("flex_main", ROOT / "docker" / "flex_template" / "main.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with pytest.raises(SystemExit):
        mod.main(["--command=nope"])
    with pytest.raises(SystemExit) as e:
        mod.main(["--command=refresh", "--help"])
    assert e.value.code == 0
    body = json.loads((ROOT / "examples" / "cloud_scheduler" / "launch_body.json").read_text())
    assert set(body["launchParameter"]["parameters"]) <= set(names)


@pytest.mark.parametrize("script", ["examples/cron/refresh.sh", "examples/cloud_scheduler/create_job.sh"])
def test_shell_examples_parse(script):
    bash = shutil.which("bash")
    if not bash:
        pytest.skip("no bash")
    subprocess.run([bash, "-n", str(ROOT / script)], check=True)
    assert "pipeline refresh" in (ROOT / script).read_text() or "flexTemplates:launch" in (ROOT / script).read_text()


def test_airflow_dag():
    path = ROOT / "examples" / "airflow" / "swallow_refresh_dag.py"
    src = path.read_text()
    compile(src, str(path), "exec")
    assert "pipeline refresh" in src
    if importlib.util.find_spec("airflow") is None:
        return  # syntax-checked only
    spec = importlib.util.spec_from_file_location("swallow_refresh_dag", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.dag.dag_id == "swallow_corpus_refresh"


def _pip_requirements(rest: str) -> list[str]:
    """Requirement words of a ``pip install`` inside a RUN (flags and the local package skipped)."""
    out = []
    for cmd in re.split(r"&&|;", rest):
        words = cmd.split()
        if words[:2] not in (["pip", "install"], ["python", "-m"]) or "install" not in words:
            continue
        args = words[words.index("install") + 1:]
        skip_next = False
        for w in args:
            w = w.strip("'\"")
            if skip_next:
                skip_next = False
                continue
            if w in ("-r", "-c", "--constraint", "--requirement", "--index-url", "-i"):
                skip_next = True
                continue
            if w.startswith("-") or w.startswith(".") or w == "\\":
                continue  # flags; ".", ".[gcp]", -e ".[trainer]": this repository, pinned by setup.py
            out.append(w)
    return out


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_images_are_pinned(path):
    """A rebuild gives the same image: every base has an explicit tag other than ``latest`` (or a
    digest), and every package pip installs besides this repository is pinned with ``==``."""
    for word, rest in _instructions(path):
        refs = []
        if word == "FROM":
            refs.append(rest.split()[0])
        if word == "COPY" and "--from=" in rest:
            ref = re.search(r"--from=(\S+)", rest).group(1)
            if "/" in ref or ":" in ref:  # an image, not a build stage
                refs.append(ref)
        for ref in refs:
            if "@sha256:" in ref:
                continue
            name, _, tag = ref.rpartition(":")
            assert name and "/" not in tag and tag and tag != "latest", f"{path.name}: base {ref} is not pinned"
        if word == "RUN":
            for req in _pip_requirements(rest):
                assert re.match(r"^[A-Za-z0-9_.\-\[\]]+==[^=*]+$", req), f"{path.name}: pip installs {req!r} unpinned"


def test_k8s_image_tag_is_not_latest():
    text = (ROOT / "docker" / "k8s" / "trainer-pytorchjob.yaml").read_text()
    for image in re.findall(r"image:\s*(\S+)", text):
        assert not image.endswith(":latest") and ":" in image, image
