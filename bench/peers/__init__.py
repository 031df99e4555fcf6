"""Contenders (datatrove, hojichar) run in their own virtual environments under ``bench/work/``:
they never enter the project's runtime dependencies. ``envs.ensure(name)`` creates or reuses one;
the ``run_*.py`` scripts here are executed with that environment's interpreter and speak JSON."""
