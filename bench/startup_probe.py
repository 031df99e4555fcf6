"""What a run costs before its first record, in this process: interpreter start, imports of Beam and
of our stages, construction of the v1 DAG (``pipeline.dag.build`` and the progress counters ``pipeline/run.py`` adds) and its translation to the
runner API (what every runner, Dataflow's launcher included, does once per job). Prints one JSON
line of CPU-seconds; ``bench/marginal.py`` runs it in a fresh interpreter."""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time


def main(recipe: str = "v1") -> dict:
    t0 = time.process_time()
    import apache_beam as beam
    from apache_beam.options.pipeline_options import PipelineOptions
    t1 = time.process_time()
    from pipeline import dag, recipes
    from pipeline.progress_metrics import TrackProgress
    from transforms import stages  # noqa: F401  (the stages' rule modules)
    t2 = time.process_time()
    cfg = recipes.load(recipe, None)
    with tempfile.TemporaryDirectory() as tmp:
        warc = os.path.join(tmp, "x.warc.gz")
        open(warc, "wb").close()
        p = beam.Pipeline(options=PipelineOptions(["--runner=FnApiRunner"]))
        built = dag.build(p, cfg, [warc], os.path.join(tmp, "out"), check_inputs=False)
        p | "Progress" >> TrackProgress(  # as pipeline/run.py adds it
            0, built["read"], [built["documents"], *built["rejected"], built["errors"]], None,
            stages=built["stages"], rounds=built["rounds"])
        t3 = time.process_time()
        proto = p.to_runner_api()
        t4 = time.process_time()
        from apache_beam.runners.portability.fn_api_runner import fn_runner

        _, fused = fn_runner.FnApiRunner().create_stages(proto)  # what FnApiRunner plans to run
        t5 = time.process_time()
    transforms = proto.components.transforms
    return {"recipe": recipe, "interpreter_cpu_s": round(t0, 3), "import_beam_cpu_s": round(t1 - t0, 3),
            "import_ours_cpu_s": round(t2 - t1, 3), "build_cpu_s": round(t3 - t2, 3),
            "to_runner_api_cpu_s": round(t4 - t3, 3), "fnapi_plan_cpu_s": round(t5 - t4, 3),
            "fused_stages": len(fused), "transforms": len(transforms),
            "leaf_transforms": sum(1 for t in transforms.values() if not t.subtransforms)}


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:2])))
