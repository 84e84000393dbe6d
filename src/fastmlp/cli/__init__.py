"""Command line: ``fastmlp demo | train | evaluate | predict | export-c | bench | info``
(or ``python -m fastmlp ...``).

Each command lives in its own module with ``NAME``, ``HELP``, ``add_arguments(parser)``
and ``run(args)``.  Every error is one line naming the option at fault, with exit code 2.
"""
import argparse
import os
import sys

from . import bench, demo, evaluate, export_c, info, predict, train
from .arguments import CommandError

COMMANDS = (demo, train, evaluate, predict, export_c, bench, info)
# What a command may raise that is the user's to fix, not a bug: reported in one line.
# (FloatingPointError is fastmlp.DivergenceError; ImportError is a missing extra.)
REPORTED = (CommandError, ValueError, OSError, FloatingPointError, ImportError)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows each option's default, except where there is none (None or an off switch):
    those options say in words what happens without them."""

    def _get_help_string(self, action):
        if action.default is None or action.default is False:
            return action.help
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``fastmlp train: error: ...``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser():
    parser = Parser(prog="fastmlp", formatter_class=HelpFormatter,
                    description="Train, evaluate and export fully connected sigmoid networks; "
                                "`fastmlp COMMAND --help` lists a command's options.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = commands.add_parser(command.NAME, help=command.HELP, description=command.HELP,
                                formatter_class=HelpFormatter)
        command.add_arguments(p)
        p.set_defaults(run=command.run)
    return parser


def one_line(message):
    return " ".join(str(message).split())


def main(argv=None):
    """Run the command line; returns the exit code (2 for any error)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help (0) or a bad argument (2, already reported)
        return stop.code
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"fastmlp {args.command}: interrupted", file=sys.stderr)
        return 130  # as a shell reports a command stopped by SIGINT
    except BrokenPipeError:  # the reader of stdout left (`fastmlp predict ... | head`)
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except REPORTED as error:
        print(f"fastmlp {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2
