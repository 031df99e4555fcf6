"""Benchmarks: ``python -m bench all`` (the side-by-side harness: ours against peers) and
``python -m bench spine`` (per-stage rates of our spine). See runbooks/cost-model.md."""
