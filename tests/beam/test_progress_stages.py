"""Per-stage progress counters on a real run (recipe v1, the sample crawl): every stage's records
in and out are counted, and every round of dedup's connected components is seen."""
import pathlib

from pipeline.cli import run
from tests.conftest import SAMPLE_WARCS, beam_args


def test_every_stage_and_dedup_round_is_counted(tmp_path):
    r = run(["--input", str(pathlib.Path(SAMPLE_WARCS[0]).parent / "*.warc.gz"), "--output", str(tmp_path),
             *beam_args()])
    prog = r["progress"]
    assert prog["stage"] == "done" and prog["eta_s"] == 0.0
    stages = prog["stages"]
    assert list(stages) == list(r["config"]["stages"])
    funnel = {f["stage"]: f for f in r["funnel"]}
    pages_in = r["records_read"] - funnel["read"]["dropped"] - funnel["read"]["errors"]
    for name, row in stages.items():
        # every record that entered a stage left it (kept, rejected or error) ...
        assert row["in"] == row["done"] == pages_in, (name, row)
        # ... and the next stage got the ones it kept
        pages_in = funnel[name]["pages_after"]
    assert stages["dedup"]["rounds"] == r["config"]["dedup"]["max_rounds"]
    # the sample has near-duplicate clusters, so edges go through every (unrolled) round
    assert stages["dedup"]["rounds_seen"] == stages["dedup"]["rounds"]
