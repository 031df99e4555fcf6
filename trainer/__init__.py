"""Continued pre-training stage for the Swallow corpus.

``trainer.tokenize`` turns the pipeline's Parquet into Megatron-LM indexed
datasets; ``trainer.train`` continues pre-training a Llama checkpoint on them
with FSDP2, in the shape of torchtitan.  See ``runbooks/trainer.md``.
"""
