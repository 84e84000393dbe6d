"""Peak memory of one training epoch, against what it must hold.

Each workload runs in a fresh subprocess, which reports its peak resident set size
(ru_maxrss) before and after one epoch of Network.fit, beside the bytes of the data,
the parameters and fit's workspace.

    python bench/memory.py
"""
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys
import numpy as np
import fastmlp
from fastmlp import _kernels
sizes, batch, n, dtype = json.loads(sys.argv[1])
start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Python, NumPy, fastmlp
rng = np.random.default_rng(0)
X = rng.random((n, sizes[0]), dtype=dtype)  # no float64 temporary: it would set the peak
y = rng.integers(0, sizes[-1], n)
net = fastmlp.Network(sizes, dtype=dtype, init="scaled", seed=0)
net.fit(X[:batch], y[:batch], epochs=1, batch_size=batch, lr=0.1)  # load code, warm up
import gc; gc.collect()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
net.fit(X, y, epochs=1, batch_size=batch, lr=0.1)
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
params = sum(p.nbytes for l in net.layers for p in l.parameters())
work = _kernels.train_workspace_size(net._weights(), batch) * np.dtype(dtype).itemsize
print(json.dumps(dict(start=start, before=before, after=after, data=X.nbytes, params=params, work=work,
                     targets=n * sizes[-1] * np.dtype(dtype).itemsize)))
"""

WORKLOADS = [("W1", [784, 30, 10], 10, 50_000, "float64"),
             ("W3", [784, 1024, 1024, 10], 128, 60_000, "float32")]


def mib(b):
    return f"{b / 2**20:8.1f} MiB"


def main():
    columns = ["start", "before", "after", "data", "targets", "params", "work", "rest"]
    print(f"{'workload':<9} {'dtype':<8}" + "".join(f"{c:>10}" for c in columns) + "   (MiB)")
    for wid, sizes, batch, n, dtype in WORKLOADS:
        out = subprocess.run([sys.executable, "-c", CHILD, json.dumps([sizes, batch, n, dtype])],
                             capture_output=True, text=True, check=True).stdout
        r = json.loads(out)
        r["rest"] = r["after"] - r["start"] - r["data"] - r["targets"] - r["params"] - r["work"]
        print(f"{wid:<9} {dtype:<8}" + "".join(f"{r[c] / 2**20:10.1f}" for c in columns))
    print("start: peak RSS once Python, NumPy and fastmlp are loaded; before / after: peak RSS "
          "before and after one epoch of fit, once the data and the network exist; rest: the "
          "peak beyond start and what training must hold (data X, one-hot targets, parameters, "
          "fit's workspace): the epoch's shuffling order, the thread pool, allocator slack.")


if __name__ == "__main__":
    main()
