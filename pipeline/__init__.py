"""Options, recipes, the DAG (read top-down), the run report and the CLI."""
