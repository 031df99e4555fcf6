"""``python -m pipeline refresh``: crash mid-run → rerun → nothing lost, nothing duplicated;
a new snapshot becomes a new corpus version with lineage, processing only its new files."""
from __future__ import annotations

import dataclasses
import glob
import json
import os

import pyarrow.parquet as pq
import pytest

from pipeline import cli, refresh, refresh_store
from tests.conftest import DATA, beam_args

FILES = [str(DATA / "warc" / f"sample-0000{i}.warc.gz") for i in (9, 4, 0)]
NEW_FILE = str(DATA / "warc" / "sample-00003.warc.gz")
RUN_ARGS = ["--recipe", "v1", "--no_progress", *beam_args()]


class Crash(RuntimeError):
    pass


def _ids(paths: list[str]) -> list[str]:
    out = []
    for p in paths:
        out += pq.read_table(p, columns=["id"]).column("id").to_pylist()
    return out


def _docs(root, version="*"):
    return sorted(glob.glob(os.path.join(root, version, "batches", "*", "documents", "*.parquet")))


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    r = cli.run([*sum((["--input", f] for f in FILES), []), "--output", str(out), *RUN_ARGS])
    return r, sorted(_ids(glob.glob(str(out / "documents" / "*.parquet"))))


def test_refresh_resumes_after_crashes_without_loss_or_duplicates(tmp_path, monkeypatch, reference):
    ref_report, ref_ids = reference
    root = str(tmp_path / "corpus")
    patterns = [str(DATA / "warc" / "sample-0000[049].warc.gz")]

    # 1. Crash between moving batch 2 into place and writing its commit record.
    commits = []
    write_commit_record = refresh_store.Store.write_commit_record

    def crash_on_second_commit(store, version_id, bid, record):
        commits.append(bid)
        if len(commits) == 2:
            raise Crash("killed after move, before commit record")
        write_commit_record(store, version_id, bid, record)

    monkeypatch.setattr(refresh_store.Store, "write_commit_record", crash_on_second_commit)
    with pytest.raises(Crash):
        refresh.refresh(patterns, root, RUN_ARGS, batch_files=1)
    monkeypatch.setattr(refresh_store.Store, "write_commit_record", write_commit_record)
    assert len(_docs(root)) >= 2  # batch 2's files are on disk, uncommitted

    # 2. Crash inside the next Beam job: it leaves partial output under _tmp/.
    def dying_run(cfg, inputs, out, beam_options, **kwargs):
        os.makedirs(f"{out}/documents", exist_ok=True)
        with open(f"{out}/documents/part-00000-of-00003.parquet", "wb") as f:
            f.write(b"partial")
        raise Crash("worker lost")

    with pytest.raises(Crash):
        refresh.refresh(patterns, root, RUN_ARGS, batch_files=1, run_fn=dying_run)
    # On start it removed batch 2's uncommitted directory; only batch 1 is in place.
    assert len(glob.glob(os.path.join(root, "*", "batches", "*"))) == 1

    # 3. Rerun (with a different batching): recovers, does only what is missing.
    summary = refresh.refresh(patterns, root, RUN_ARGS, batch_files=2)
    assert summary["status"] == "complete" and summary["files_remaining"] == 0
    assert summary["files_done_before"] == 1 and summary["batches_run"] == 1
    assert summary["recovered"]["tmp"]  # the dead job's partial output

    ids = _ids(_docs(root))
    assert len(ids) == len(set(ids)), "duplicate documents after resume"
    assert sorted(ids) == ref_ids, "documents lost or changed after resume"

    # The manifest: every input file exactly once, counts equal the one-shot run.
    table = pq.read_table(os.path.join(root, "manifest.parquet")).to_pylist()
    assert sorted(r["path"] for r in table) == sorted(FILES)
    assert sum(r["kept"] for r in table) == ref_report["kept"]
    assert sum(r["records_read"] for r in table) == ref_report["records_read"]
    assert sum(r["errors"] for r in table) == sum(ref_report["errors"].values())
    for r in table:
        assert r["status"] in ("done", "done_with_errors") and r["code_version"] and r["config_hash"]
        assert r["outputs"] and all(o.startswith(r["version"] + "/batches/") for o in r["outputs"])
        for o in r["outputs"]:
            assert os.path.exists(os.path.join(root, o)), o
    assert not os.listdir(os.path.join(root, "_tmp"))

    # 4. Rerunning the same command again is a no-op.
    again = refresh.refresh(patterns, root, RUN_ARGS, batch_files=2)
    assert again["batches_run"] == 0 and again["version"] == summary["version"]
    assert sorted(_ids(_docs(root))) == ref_ids

    # 5. A new snapshot: new version, parent + lineage recorded, only its new file processed.
    new = refresh.refresh([*patterns, NEW_FILE], root, RUN_ARGS, snapshot="CC-MAIN-2099-01", batch_files=5)
    v = new["version_doc"]
    assert new["status"] == "complete" and new["batches_run"] == 1 and new["files_done_before"] == 3
    assert v["parent"] == summary["version"] and v["snapshots"] == ["adhoc", "CC-MAIN-2099-01"]
    assert v["lineage"] == [summary["version"], new["version"]]
    assert v["config"]["name"] == "v1" and v["code_version"]
    assert open(os.path.join(root, "CURRENT")).read().strip() == new["version"]
    all_ids = _ids(_docs(root))
    assert len(all_ids) == len(set(all_ids))
    assert set(ref_ids) < set(all_ids)


def test_dedup_index_wiring():
    @dataclasses.dataclass(frozen=True)
    class D:
        index_inputs: tuple = ()
        index_output: str | None = None

    @dataclasses.dataclass(frozen=True)
    class Cfg:
        stages: tuple = ("extract", "dedup")
        dedup: D = D()

    cfg, used = refresh._with_dedup_index(Cfg(), ["gs://b/v1/batches/x/dedup_index"], "gs://b/_tmp/y/dedup_index")
    assert used and cfg.dedup.index_inputs == ("gs://b/v1/batches/x/dedup_index",)
    assert cfg.dedup.index_output == "gs://b/_tmp/y/dedup_index"
    same, used = refresh._with_dedup_index(dataclasses.replace(Cfg(), stages=("extract",)), ["x"], "y")
    assert not used and same.dedup.index_inputs == ()


def test_batch_ids_and_snapshot_names():
    assert refresh.batch_id(["b", "a"]) == refresh.batch_id(["a", "b"])
    assert refresh.snapshot_of(["s3://commoncrawl/crawl-data/CC-MAIN-2024-10/segments/*"]) == "CC-MAIN-2024-10"
    assert refresh.snapshot_of(["/data/*.warc.gz"]) == "adhoc"
    h = refresh.config_hash({"a": 1})
    assert h == refresh.config_hash({"a": 1}) and h != refresh.config_hash({"a": 2})


def test_cli_refresh_subcommand_help(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["refresh", "--help"])
    assert e.value.code == 0
    assert "--batch_files" in capsys.readouterr().out


def test_new_snapshot_is_deduplicated_against_the_stored_index(tmp_path):
    """Snapshot 2 re-crawls snapshot 1's pages (new record ids and URLs, a later date): every page
    snapshot 1 kept is removed from snapshot 2 as a duplicate of the stored corpus, by the dedup
    index alone (snapshot 1's documents are not re-read)."""
    from tests.warcgen import gz_members, response
    from transforms.read_warc import iter_warc

    root = str(tmp_path / "corpus")
    first = str(DATA / "warc" / "sample-00000.warc.gz")
    s1 = refresh.refresh([first], root, RUN_ARGS, snapshot="CC-MAIN-2020-01", batch_files=5)
    kept1 = _ids(_docs(root, s1["version"]))
    assert kept1

    recrawl = []
    for kind, rec in iter_warc(first):
        if kind != "kept":
            continue
        ctype = "text/html" + (f"; charset={rec['http_charset']}" if rec.get("http_charset") else "")
        recrawl.append(response(rec["url"] + "?recrawl=1", rec["html"], content_type=ctype,
                                date="2030-01-01T00:00:00Z"))
    second = tmp_path / "snap2" / "recrawl-00000.warc.gz"
    second.parent.mkdir()
    second.write_bytes(gz_members(recrawl))

    s2 = refresh.refresh([first, str(second)], root, RUN_ARGS, snapshot="CC-MAIN-2030-01", batch_files=5)
    assert s2["batches_run"] == 1 and s2["files_done_before"] == 1
    commit = json.load(open(glob.glob(os.path.join(root, s2["version"], "manifest", "*.json"))[0]))
    assert commit["dedup_index"] and commit["dedup_against"]
    rejects = [r for p in glob.glob(os.path.join(root, s2["version"], "batches", "*", "rejects", "*.parquet"))
               for r in pq.read_table(p, columns=["stage", "reason", "duplicate_of"]).to_pylist()]
    dups = [r for r in rejects if r["stage"] == "dedup"]
    targets = {r["duplicate_of"] for r in dups}
    assert set(kept1) <= targets  # each stored page removed its re-crawl
    # other targets are re-crawled copies that exact dedup met first within snapshot 2
    assert len(targets - set(kept1)) <= len(dups) - len(kept1)
    assert _ids(_docs(root, s2["version"])) == []  # nothing new in a pure re-crawl
