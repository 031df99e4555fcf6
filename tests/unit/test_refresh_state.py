"""Refresh on broken state: empty batches, a second refresh on the same root, damaged commit
records and version files, a glob that matches nothing (a table of inputs → expected error)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from pipeline import refresh, refresh_store
from pipeline.refresh_state import RootLock, StateError
from tests.conftest import DATA, beam_args
from tests.warcgen import gz_members, response

RUN_ARGS = ["--recipe", "v1", "--no_progress", *beam_args()]
SAMPLE = str(DATA / "warc" / "sample-00000.warc.gz")


def test_a_batch_that_keeps_nothing_does_not_stop_later_batches(tmp_path):
    english = tmp_path / "in" / "english-00000.warc.gz"
    english.parent.mkdir()
    english.write_bytes(gz_members([response(f"http://en.example/{i}", b"<html><body>plain English</body></html>")
                                    for i in range(3)]))
    root = str(tmp_path / "corpus")
    s1 = refresh.refresh([str(english)], root, RUN_ARGS, snapshot="CC-MAIN-2020-01")
    assert s1["status"] == "complete"
    s2 = refresh.refresh([str(english), SAMPLE], root, RUN_ARGS, snapshot="CC-MAIN-2020-05")
    assert s2["status"] == "complete" and s2["batches_run"] == 1
    assert refresh.refresh([str(english), SAMPLE], root, RUN_ARGS, snapshot="CC-MAIN-2020-05")["batches_run"] == 0


def test_a_second_refresh_on_the_same_root_is_refused(tmp_path):
    with RootLock(str(tmp_path)):
        with pytest.raises(StateError, match="_lock: another refresh holds this root"):
            with RootLock(str(tmp_path)):
                pass
    with RootLock(str(tmp_path)):  # released after use
        pass


def test_the_lock_of_a_killed_refresh_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    import socket

    (tmp_path / "_lock").write_text(json.dumps({"host": socket.gethostname(), "pid": dead.pid}))
    with RootLock(str(tmp_path)) as lock:
        assert lock.held


def _state(tmp_path, name, text):
    d = tmp_path / "v0001-CC-MAIN-2020-01"
    (d / "manifest").mkdir(parents=True)
    good_version = {"id": d.name, "snapshot": "CC-MAIN-2020-01", "config_hash": "x", "status": "complete",
                    "snapshots": ["CC-MAIN-2020-01"], "lineage": [d.name], "parent": None}
    (d / "version.json").write_text(json.dumps(good_version))
    target = d / ("version.json" if name == "version" else "manifest/b-1.json")
    target.write_text(text)
    return target


# (file, content, expected words of the one-line error)
BROKEN_STATE = [
    ("manifest", "", "empty file"),
    ("manifest", '{"batch": "b-1", "files": [', "not valid JSON"),
    ("manifest", "[]", "expected a JSON object"),
    ("manifest", json.dumps({"batch": "b-1", "version": "v", "snapshot": "s", "files": [{}], "outputs": [],
                             "totals": {"records_read": 1, "kept": 1}}), "files[0] has no 'path'"),
    ("manifest", json.dumps({"batch": "b-1", "version": "v", "snapshot": "s", "files": [], "outputs": [],
                             "totals": {}}), "totals.records_read"),
    ("version", "", "empty file"),
    ("version", '{"id": "v0001"', "not valid JSON"),
    ("version", json.dumps({"id": "v0001"}), "field 'snapshot' missing"),
]


@pytest.mark.parametrize("which,text,words", BROKEN_STATE)
def test_damaged_state_files_are_named(tmp_path, which, text, words):
    target = _state(tmp_path, which, text)
    store = refresh_store.Store(str(tmp_path))
    with pytest.raises(StateError) as e:
        for v in store.versions():
            store.commits(v["id"])
    assert str(target) in str(e.value) and words in str(e.value)


def _cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True, text=True,
                          cwd=cwd or os.getcwd(), timeout=300)


# (argv after `refresh`, expected words): one line on stderr, exit status 2, no traceback
BAD_REFRESH_ARGS = [
    (["--input", "/nonexistent/dir/*.warc.gz"], "matches no file"),
    (["--input", SAMPLE, str(DATA / "warc" / "sample-00001.warc.gz")], "unexpected argument"),
    (["--input", SAMPLE, "--batch_files", "0"], "--batch_files"),
]


@pytest.mark.parametrize("args,words", BAD_REFRESH_ARGS)
def test_refresh_usage_errors_are_one_line(tmp_path, args, words):
    r = _cli("refresh", *args, "--output", str(tmp_path / "root"))
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_refresh_with_damaged_manifest_is_one_line(tmp_path):
    _state(tmp_path, "manifest", "{")
    r = _cli("refresh", "--input", SAMPLE, "--output", str(tmp_path), "--snapshot", "CC-MAIN-2020-01")
    assert r.returncode == 2 and "b-1.json: not valid JSON" in r.stderr and "Traceback" not in r.stderr
