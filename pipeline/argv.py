"""Command-line help and flag checking shared by ``run``, ``refresh`` and ``index``.

Beam's ``PipelineOptions`` discards flags it does not know with a log warning and exits through
argparse's two-line usage message on a bad value. A user who mistypes ``--outptu`` deserves one
line naming the flag, a suggestion, and exit status 2 (argparse's convention for usage errors), so
the argv is checked against every registered Beam option class before anything runs. ``--help``
lists our options with their defaults; ``--help_beam`` lists Beam's as well (the idea of
``complete/juliaset`` in Beam's examples: our options are a ``PipelineOptions`` subclass and the
rest of argv goes to Beam unchanged).
"""
from __future__ import annotations

import argparse
import difflib
import sys

HELP_FLAGS = ("-h", "--help")


class DefaultsFormatter(argparse.HelpFormatter):
    """Appends ``(default: X)`` where there is a default to show and the help does not already
    say what the default is (e.g. "default: the recipe's")."""

    def _get_help_string(self, action):
        text = action.help or ""
        if ("default" in text or action.required or action.default in (None, False, argparse.SUPPRESS)
                or action.option_strings == [] or "-h" in action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


class EpilogFormatter(DefaultsFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown, description and epilog kept as written (the epilog is pre-formatted help)."""


class UsageError(Exception):
    """A command-line mistake: printed as one line, exit status 2."""


class OneLineParser(argparse.ArgumentParser):
    """``argparse`` with defaults in ``--help`` and a one-line error (status 2) instead of the
    usage block: the usage is one ``--help`` away and buries the actual message."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message):
        print(f"{self.prog}: error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def _beam_parser(raising: bool = True):
    """A parser of every Beam option class registered (and ours), as ``PipelineOptions`` builds."""
    from apache_beam.options.pipeline_options import PipelineOptions, _BeamArgumentParser

    import pipeline.options  # noqa: F401  (registers SwallowOptions)

    try:  # option classes defined outside pipeline_options.py
        import apache_beam.runners.render  # noqa: F401
    except Exception:  # pragma: no cover - optional dependencies of the renderer
        pass

    class _Parser(_BeamArgumentParser):
        def error(self, message):
            raise UsageError(message)

    parser = _Parser(allow_abbrev=False, add_help=False, prog="python -m pipeline run")
    seen: dict[str, type] = {}
    stack = list(PipelineOptions.__subclasses__())
    while stack:
        cls = stack.pop(0)
        seen.setdefault(str(cls), cls)
        stack.extend(cls.__subclasses__())
    for cls in seen.values():
        try:
            cls._add_argparse_args(parser)  # pylint: disable=protected-access
        except argparse.ArgumentError:  # a subclass re-adding its parent's flags
            continue
    return parser


def check_beam_args(argv: list[str], also_known: tuple[str, ...] = ()) -> None:
    """Raise :class:`UsageError` for a flag no option class knows or a value argparse refuses.
    ``also_known``: the calling command's own flags, for the did-you-mean hint."""
    parser = _beam_parser()
    known = [s for a in parser._actions for s in a.option_strings] + list(also_known)
    _, unknown = parser.parse_known_args(argv)
    flags = [a for a in unknown if a.startswith("-")]
    if flags:
        name = flags[0].split("=", 1)[0]
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"; did you mean {close[0]}?" if close else ""
        raise UsageError(f"unknown option {name}{hint}")
    if unknown:
        raise UsageError(f"unexpected argument {unknown[0]!r} (options are --name=value)")


def run_option_lines(exclude: tuple[str, ...] = ()) -> str:
    """Help text of our run options (``SwallowOptions`` and ``--no_progress``), with defaults."""
    from pipeline.options import SwallowOptions

    parser = argparse.ArgumentParser(add_help=False, formatter_class=DefaultsFormatter)
    SwallowOptions._add_argparse_args(parser)  # pylint: disable=protected-access
    parser.add_argument("--no_progress", action="store_true", help="no progress line on the terminal")
    formatter = parser._get_formatter()
    formatter.start_section(None)
    formatter.add_arguments([a for a in parser._actions if not set(a.option_strings) & set(exclude)])
    formatter.end_section()
    return formatter.format_help()


BEAM_NOTE = """Any other Beam pipeline option passes through unchanged, e.g. --runner=DataflowRunner
--project=P --region=R --temp_location=gs://BUCKET/tmp, --runner=PortableRunner
--job_endpoint=HOST:8099, --direct_num_workers=N. With no --runner the run is local, offline and
on all cores (FnApiRunner). --help_beam lists every Beam option."""


def run_help(usage: str) -> str:
    return f"{usage}\n\nrun options:\n{run_option_lines()}\n{BEAM_NOTE}\n"


def beam_help() -> str:
    parser = _beam_parser()
    parser.formatter_class = DefaultsFormatter
    parser.usage = "python -m pipeline run|refresh [run options] [Beam options]"
    return parser.format_help()
