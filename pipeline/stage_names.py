"""The names a recipe may put in ``PipelineConfig.stages``. Its own module so that the config
(:mod:`pipeline.recipes`) checks stage names without importing the DAG and Beam; the DAG's
builders (:data:`pipeline.dag.STAGES`) are keyed by exactly these names (a unit test says so)."""

STAGE_NAMES: tuple[str, ...] = (
    "decode", "prefilter", "extract", "langid", "quality", "harmful", "normalize", "dedup", "hosts",
    "classify", "topk", "subset", "pii", "decontaminate",
)
