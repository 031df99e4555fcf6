# Dataflow Flex Template image: the worker image plus Google's Python template launcher, so the
# launcher and the workers run the same code (Google's recommended single-image layout).
#
#   docker build -f docker/flex_template/launcher.Dockerfile -t REGION-docker.pkg.dev/PROJECT/swallow/flex:0.1.0 .
#   gcloud dataflow flex-template build gs://BUCKET/templates/swallow.json \
#     --image REGION-docker.pkg.dev/PROJECT/swallow/flex:0.1.0 --sdk-language PYTHON \
#     --metadata-file docker/flex_template/metadata.json
# A dated launcher release, not :latest: a rebuild must give the same launcher (list of tags:
# gcloud container images list-tags gcr.io/dataflow-templates-base/python311-template-launcher-base).
FROM gcr.io/dataflow-templates-base/python311-template-launcher-base:flex_templates_base_image_release_20260112_RC00 AS launcher

FROM apache/beam_python3.11_sdk:2.77.0

COPY --from=launcher /opt/google/dataflow/python_template_launcher /opt/google/dataflow/python_template_launcher

ARG SWALLOW_CODE_VERSION=0.1.0
ENV SWALLOW_CODE_VERSION=${SWALLOW_CODE_VERSION} PIP_NO_CACHE_DIR=1
WORKDIR /template
COPY setup.py ./
COPY pipeline ./pipeline
COPY transforms ./transforms
COPY classifiers ./classifiers
COPY docker/flex_template/main.py ./docker/flex_template/main.py
RUN pip install ".[gcp]" "gcsfs==2026.10.1"

# Packages are installed in the image: the launcher must not stage setup.py again.
ENV FLEX_TEMPLATE_PYTHON_PY_FILE=/template/docker/flex_template/main.py \
    FLEX_TEMPLATE_PYTHON_REQUIREMENTS_FILE="" \
    FLEX_TEMPLATE_PYTHON_SETUP_FILE=""

ENTRYPOINT ["/opt/google/dataflow/python_template_launcher"]
