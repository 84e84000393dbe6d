"""Saving and loading networks: a .npz of the parameters plus a JSON header, no pickle.

The header records the format version, the architecture, the dtype, the fastmlp version,
the random Generator's state and a SHA-256 digest of the header and of every parameter's
dtype, shape and bytes, so that a truncated, altered or forged file is refused rather
than half loaded.  Every such refusal is a `LoadError`.

A save writes a temporary file beside the target, flushes it to disk and renames it over
the target in one step, so an interrupted save (Ctrl-C, kill -9, a full disk) leaves
the previous file as it was.
"""
import hashlib
import json
import numbers
import os
import secrets
import zipfile

from typing import TYPE_CHECKING, Any, Union

import numpy as np

if TYPE_CHECKING:
    from .network import Network

FORMAT = "fastmlp.network"
# 2: the digest covers each array's dtype and shape too.  1: header and bytes only
# (still read: its arrays' dtypes and shapes are checked against the header instead).
FORMAT_VERSION = 2
READABLE_VERSIONS = (1, 2)


class LoadError(ValueError):
    """The file is not a complete, unaltered fastmlp network; the message says why."""


# --- the digest -----------------------------------------------------------------------------

def _digest(header, arrays, version=FORMAT_VERSION):
    """SHA-256 over the header (without its digest) and the named arrays, in order.

    ``arrays`` is a sequence of (name, array) pairs.
    """
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for name, a in arrays:
        if version >= 2:
            h.update(f"{name} {a.dtype.str} {list(a.shape)}\n".encode())
        h.update(np.ascontiguousarray(a).data)  # the buffer itself: no copy of the bytes
    return h.hexdigest()


def _parameter_names(n_layers):
    return [f"{kind}{l}" for l in range(n_layers) for kind in "Wb"]


# --- saving ---------------------------------------------------------------------------------

def save(net: "Network", path: Union[str, "os.PathLike[str]"]) -> None:
    """Write `net` to `path` (a .npz file: arrays W0, b0, W1, b1, ... and a header).

    The file appears complete or not at all: it is written to a temporary file in the
    same folder, flushed and fsync'ed, then renamed over `path`.  If the save fails or
    is interrupted, `path` keeps its previous content and the temporary file is removed
    (only a process killed outright, as by kill -9, can leave one behind: a file named
    ``.<name>.<random>.tmp`` beside the target).
    """
    from . import __version__

    arrays: dict[str, Any] = {}
    for l, layer in enumerate(net.layers):
        arrays[f"W{l}"], arrays[f"b{l}"] = layer.weights, layer.biases
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "fastmlp_version": __version__,
        "sizes": net.sizes, "cost": net.cost, "output": net.output, "dtype": net.dtype.name,
        "backend": net.backend, "epochs_trained": net.epochs_trained,
        "rng_state": net.rng.bit_generator.state,
    }
    header["sha256"] = _digest(header, arrays.items())
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    _write_atomically(os.fspath(path), lambda f: np.savez(f, header=encoded, **arrays))


def _write_atomically(path, write):
    """Call ``write(f)`` on a new temporary file beside `path`, then rename it to `path`."""
    folder, name = os.path.split(os.path.abspath(path))
    while True:
        temporary = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
        try:
            # 0o666 filtered by the umask, as open() would give the target itself.
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _sync_folder(folder)


def _sync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- loading --------------------------------------------------------------------------------

def _read_npz(path):
    """The arrays of the .npz at `path` by name, refusing anything but plain numeric .npy.

    Missing files and unreadable paths raise their OSError; everything about the
    content raises LoadError.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise LoadError(f"{path} is not a fastmlp file: it is not a .npz (zip) archive") from None
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except Exception as error:  # zipfile raises many kinds on a damaged archive
        detail = str(error) or type(error).__name__
        raise LoadError(f"{path} could not be read as a .npz archive ({detail})") from None
    arrays = {}
    with archive:
        for member in archive.namelist():
            name = member[:-4] if member.endswith(".npy") else None
            if not name or name in arrays:
                raise LoadError(f"{path} holds an entry {member!r} that is not a NumPy array "
                                f"file: fastmlp files hold only .npy arrays")
            arrays[name] = _read_member(path, archive, member)
    return arrays


def _read_member(path, archive, member):
    fmt = np.lib.format
    try:
        with archive.open(member) as f:
            version = fmt.read_magic(f)
            read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
            _, _, dtype = read_header(f)
            if dtype.hasobject:
                raise LoadError(f"{path} stores {member!r} as Python objects (pickled data); "
                                f"fastmlp files hold only numbers, and this one is not loaded")
        with archive.open(member) as f:
            return fmt.read_array(f, allow_pickle=False)
    except LoadError:
        raise
    except Exception as error:  # zipfile, zlib, NumPy's header parser: all mean "damaged"
        detail = str(error) or type(error).__name__
        raise LoadError(f"{path} is damaged: its entry {member!r} cannot be read ({detail})") from None


def _is_count(value, minimum):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= minimum


def _check_header(path, header):
    """Refuse a header whose fields are missing or not what `save` writes."""
    from ._validate import DTYPES
    from .network import BACKENDS, OUTPUTS

    def bad(field, expected):
        shown = repr(header[field]) if field in header else "missing"
        return LoadError(f"{path} has an invalid header: {field!r} must be {expected}, "
                         f"got {shown}")

    def one_of(field, allowed, condition=""):
        allowed = tuple(allowed)  # compared, never hashed: a forged list or dict is refused too
        if header.get(field) not in allowed:
            raise bad(field, f"one of {', '.join(map(repr, allowed))}{condition}")

    sizes = header.get("sizes")
    if not (isinstance(sizes, list) and len(sizes) >= 2 and all(_is_count(n, 1) for n in sizes)):
        raise bad("sizes", "a list of at least 2 positive integers")
    one_of("cost", OUTPUTS)
    one_of("output", OUTPUTS[header["cost"]], f" with cost {header['cost']!r}")
    one_of("dtype", DTYPES)
    one_of("backend", BACKENDS)
    if not _is_count(header.get("epochs_trained"), 0):
        raise bad("epochs_trained", "an integer >= 0")
    if not isinstance(header.get("rng_state"), dict):
        raise bad("rng_state", "the state of a NumPy random Generator")
    if not isinstance(header.get("sha256"), str):
        raise bad("sha256", "a SHA-256 digest")


def _check_arrays(path, header, arrays):
    """Refuse arrays that are missing, extra, or not of the header's dtype and shapes."""
    sizes, dtype = header["sizes"], np.dtype(header["dtype"])
    names = _parameter_names(len(sizes) - 1)
    missing = [n for n in names if n not in arrays]
    extra = sorted(set(arrays) - set(names))
    if missing or extra:
        raise LoadError(f"{path} does not hold the arrays of a {sizes} network: "
                        f"missing {missing}, unexpected {extra}")
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        for name, shape in ((f"W{l}", (n_out, n_in)), (f"b{l}", (n_out,))):
            a = arrays[name]
            if a.dtype != dtype:  # also refuses the byte-swapped ">f4" of a native "<f4"
                raise LoadError(f"{path} stores {name} as {a.dtype.str} ({a.dtype}), but its "
                                f"header says {dtype.name} ({dtype.str})")
            if a.shape != shape:
                raise LoadError(f"{path} stores {name} with shape {a.shape}, but a {sizes} "
                                f"network needs {shape}")
    return names


def load(path: Union[str, "os.PathLike[str]"]) -> "Network":
    """Read a network written by `Network.save`; it is identical, bit for bit.

    Reads files of format version 1 (fastmlp 0.1) and 2.

    Raises
    ------
    LoadError
        (a ValueError) for a file that is not a complete, unaltered fastmlp network:
        not a .npz, another program's .npz, truncated, damaged, altered, holding pickled
        objects, with a missing or invalid header field, or written in a newer format
        than this fastmlp reads.  The message names the problem.
    FileNotFoundError, PermissionError, IsADirectoryError
        When `path` cannot be opened at all.
    """
    from .network import Network

    arrays = _read_npz(path)
    raw = arrays.pop("header", None)
    try:
        header = json.loads(raw.tobytes().decode())
    except (AttributeError, UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        header = None
    if not isinstance(header, dict):
        raise LoadError(f"{path} is not a fastmlp network file: it has no readable fastmlp header")
    if header.get("format") != FORMAT:
        raise LoadError(f"{path} is not a fastmlp network file (its header's format is "
                        f"{header.get('format')!r}, expected {FORMAT!r})")
    version = header.get("format_version")
    if _is_count(version, FORMAT_VERSION + 1):
        raise LoadError(f"{path} uses file format {version}, written by fastmlp "
                        f"{header.get('fastmlp_version')}; this fastmlp reads formats "
                        f"{READABLE_VERSIONS[0]} to {FORMAT_VERSION}: upgrade fastmlp to read it")
    if version not in READABLE_VERSIONS or isinstance(version, bool):
        raise LoadError(f"{path} has an invalid header: 'format_version' must be one of "
                        f"{READABLE_VERSIONS}, got {version!r}")
    _check_header(path, header)
    names = _check_arrays(path, header, arrays)
    stored = header.pop("sha256")
    if stored != _digest(header, ((n, arrays[n]) for n in names), version):
        raise LoadError(f"{path} has been altered or damaged: its header and parameters do "
                        f"not match the checksum in its header")

    try:  # the constructor's own limits (such as the number of layers) still apply
        net = Network(header["sizes"], cost=header["cost"], output=header["output"],
                      dtype=header["dtype"], backend=header["backend"])
    except ValueError as error:
        raise LoadError(f"{path} describes a network fastmlp cannot build: {error}") from None
    try:
        net.rng.bit_generator.state = header["rng_state"]
    except (TypeError, ValueError, KeyError) as error:
        raise LoadError(f"{path} has an invalid header: 'rng_state' is not a state of "
                        f"NumPy's {type(net.rng.bit_generator).__name__} generator "
                        f"({error!r})") from None
    for l, layer in enumerate(net.layers):
        layer.weights, layer.biases = arrays[f"W{l}"], arrays[f"b{l}"]
    net.epochs_trained = int(header["epochs_trained"])
    return net
