# Trainer image: CUDA PyTorch + this repository's trainer package.
#   docker build -f docker/trainer.Dockerfile -t swallow-trainer .
# The CUDA build of torch 2.13.0 comes from the base image; the `trainer`
# extra pins the same version so pip keeps it instead of pulling another.
FROM pytorch/pytorch:2.13.0-cuda12.8-cudnn9-runtime

WORKDIR /opt/swallow
COPY setup.py ./
COPY pipeline ./pipeline
COPY transforms ./transforms
COPY classifiers ./classifiers
COPY trainer ./trainer
RUN pip install --no-cache-dir -e ".[trainer]"

ENV PYTHONUNBUFFERED=1
ENTRYPOINT []
CMD ["torchrun", "--help"]
