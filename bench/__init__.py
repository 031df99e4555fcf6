"""Benchmarks: ``python -m bench all`` (the side-by-side harness, issue 8) and
``python -m bench spine`` (per-stage rates of our spine). See runbooks/cost-model.md."""
