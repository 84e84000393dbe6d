"""Saving and loading networks: a .npz of the parameters plus a JSON header, no pickle.

The header records the format version, the architecture, the dtype, the fastmlp version,
the random Generator's state and a SHA-256 digest of the header and every parameter's
bytes, so that a truncated or altered file is refused rather than half loaded.
"""
import hashlib
import json
import zipfile

import numpy as np

FORMAT = "fastmlp.network"
FORMAT_VERSION = 1


def _digest(header, arrays):
    h = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def save(net, path):
    """Write `net` to `path` (a .npz file: arrays W0, b0, W1, b1, ... and a header)."""
    from . import __version__

    arrays = {}
    for l, layer in enumerate(net.layers):
        arrays[f"W{l}"], arrays[f"b{l}"] = layer.weights, layer.biases
    header = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "fastmlp_version": __version__,
        "sizes": net.sizes, "cost": net.cost, "output": net.output, "dtype": net.dtype.name,
        "backend": net.backend, "epochs_trained": net.epochs_trained,
        "rng_state": net.rng.bit_generator.state,
    }
    header["sha256"] = _digest(header, arrays.values())
    encoded = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    with open(path, "wb") as f:  # an open file, so numpy does not append ".npz"
        np.savez(f, header=encoded, **arrays)


def load(path):
    """Read a network written by `Network.save`; it is identical, bit for bit.

    Raises ValueError for a file that is not a complete, unaltered fastmlp network, and
    for one written in a newer format than this fastmlp reads.
    """
    from .network import Network

    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise ValueError(f"{path} is not a readable fastmlp file ({error})") from None
    try:
        header = json.loads(arrays.pop("header").tobytes().decode())
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError):
        raise ValueError(f"{path} has no fastmlp header") from None
    if header.get("format") != FORMAT:
        raise ValueError(f"{path} is not a fastmlp network file")
    version = header.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ValueError(f"{path} uses file format {version!r}, written by fastmlp "
                         f"{header.get('fastmlp_version')}; this fastmlp reads format "
                         f"{FORMAT_VERSION} and older: upgrade fastmlp to read it")
    stored = header.pop("sha256", None)
    names = [f"{kind}{l}" for l in range(len(header["sizes"]) - 1) for kind in "Wb"]
    if sorted(names) != sorted(arrays) or stored != _digest(header, (arrays[k] for k in names)):
        raise ValueError(f"{path} has been altered or damaged: its parameters do not match "
                         f"the checksum in its header")

    net = Network(header["sizes"], cost=header["cost"], output=header["output"],
                  dtype=header["dtype"], backend=header["backend"])
    for l, layer in enumerate(net.layers):
        layer.weights, layer.biases = arrays[f"W{l}"], arrays[f"b{l}"]
    net.rng.bit_generator.state = header["rng_state"]
    net.epochs_trained = header["epochs_trained"]
    return net
