"""Argument converters for the command line: each checks one option's value while the
command line is parsed, so a bad value stops the command before any data is read, with
one line naming the option (argparse adds "argument --name:" to the message)."""
import argparse
import contextlib
import functools
import math
import os
from pathlib import Path


class CommandError(Exception):
    """A problem with what the user asked for, reported as one line (no traceback)."""


@contextlib.contextmanager
def blame(option, value=None):
    """Report the library's ValueError, TypeError or OSError raised in the block as a
    CommandError naming the option (and its value, unless the message names it)."""
    try:
        yield
    except (ValueError, TypeError, OSError) as error:
        named = option if value is None or str(value) in str(error) else f"{option} {value}"
        raise CommandError(f"{named}: {error}") from None


def integer(minimum):
    """Converter to an int >= minimum."""
    def convert(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value}")
        return value
    return convert


def real(minimum=0.0, below=None):
    """Converter to a finite float >= minimum (and < below when given)."""
    def convert(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
        if not math.isfinite(value) or value < minimum or (below is not None and value >= below):
            bound = f" and < {below:g}" if below is not None else ""
            raise argparse.ArgumentTypeError(f"must be finite, >= {minimum:g}{bound}; got {text}")
        return value
    return convert


def hidden_sizes(text):
    """'30,10' -> [30, 10]: one or more layer sizes >= 1, comma-separated, none empty."""
    sizes = []
    for part in text.split(","):
        part = part.strip()
        where = "" if part == text.strip() else f" in {text!r}"
        if not part:
            raise argparse.ArgumentTypeError(
                f"{text!r} has an empty size: give sizes >= 1 separated by commas, such as 30,10")
        try:
            size = int(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r}{where} is not a whole number") from None
        if size < 1:
            raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {size}{where}")
        sizes.append(size)
    return sizes


def thread_count(text):
    """A thread count the kernels accept (the library checks its own range)."""
    from .. import runtime

    count = integer(1)(text)
    try:
        with runtime.threads(count):
            pass
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return count


def _suffixes(path, suffixes):
    if not path.name.endswith(tuple(suffixes)):
        raise argparse.ArgumentTypeError(
            f"{str(path)!r} must end in {' or '.join(suffixes)}")


def reporting_os_errors(convert):
    """`convert`, a converter that looks at the file system, with an OSError there (a name
    too long, a folder it may not look into) reported as an ArgumentTypeError."""
    @functools.wraps(convert)
    def checked(text):
        try:
            return convert(text)
        except OSError as error:
            raise argparse.ArgumentTypeError(f"{text}: {error.strerror or error}") from None
    return checked


def existing_file(*suffixes):
    """Converter to the Path of an existing file whose name ends in one of `suffixes`."""
    @reporting_os_errors
    def convert(text):
        path = Path(text)
        if not path.exists():
            raise argparse.ArgumentTypeError(f"{text} does not exist")
        if not path.is_file():
            raise argparse.ArgumentTypeError(f"{text} is not a file")
        if suffixes:
            _suffixes(path, suffixes)
        return path
    return convert


def new_file(*suffixes):
    """Converter to the Path of a file to write: its name ends in one of `suffixes`, its
    folder exists and is writable, and it is not itself a folder.  Checked before the work
    that produces the file, so that the work is not lost."""
    @reporting_os_errors
    def convert(text):
        path = Path(text)
        _suffixes(path, suffixes)
        folder = path.parent
        if not folder.is_dir():
            raise argparse.ArgumentTypeError(f"the folder {str(folder)!r} does not exist")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"the folder {str(folder)!r} is not writable")
        if path.is_dir():
            raise argparse.ArgumentTypeError(f"{text} is a folder")
        if path.exists() and not os.access(path, os.W_OK):
            raise argparse.ArgumentTypeError(f"{text} exists and is not writable")
        return path
    return convert


def c_identifier(text):
    """A C identifier, for the names in generated C code (the check export_c makes)."""
    from ..export import c_common  # not at the top: the command line starts without it

    if not c_common.is_identifier(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not {c_common.IDENTIFIER_RULE}")
    return text
