"""A training smoke test for tools/valgrind.sh: small networks of several shapes, online
(batch 1), small, >16 and >256 mini-batches, with and without momentum, in both dtypes;
each trained network is checked against the NumPy backend, which trains the same one."""
import numpy as np

import fastmlp

# (sizes, batch_size, momentum): batch 1 is the online path, <= 16 the small-batch path,
# larger ones the packed matrix products; 300 rows give a last, short mini-batch.
CASES = [([7, 5, 3], 1, 0.0), ([7, 5, 3], 4, 0.9), ([13, 17, 9, 4], 16, 0.0),
         ([13, 17, 9, 4], 33, 0.5), ([31, 40, 10], 257, 0.9), ([3, 1], 300, 0.0)]
# Rounding differs between the kernels and NumPy; 3 epochs stay far inside these.
TOLERANCE = {"float32": 2e-3, "float64": 1e-8}


def main():
    rng = np.random.default_rng(0)
    worst = 0.0
    for dtype, tol in TOLERANCE.items():
        for sizes, batch, momentum in CASES:
            X = rng.uniform(0, 1, (300, sizes[0]))
            y = rng.integers(0, sizes[-1], 300) if sizes[-1] > 1 else rng.integers(0, 2, 300)
            nets = [fastmlp.Network(sizes, dtype=dtype, seed=1, backend=b) for b in ("c", "numpy")]
            for net in nets:
                net.fit(X, y, epochs=3, batch_size=batch, lr=0.5, momentum=momentum)
            for a, b in zip(nets[0].parameters(), nets[1].parameters()):
                gap = float(np.max(np.abs(a.astype(np.float64) - b)))
                assert gap <= tol, f"{dtype} {sizes} batch {batch}: differs from NumPy by {gap}"
                worst = max(worst, gap / tol)
            out = nets[0].forward(X)
            assert np.isfinite(out).all() and out.shape == (300, sizes[-1])
    print(f"valgrind smoke: {2 * len(CASES)} trainings on ISA {fastmlp.get_isa()} agree with "
          f"the NumPy backend (largest gap {worst:.2g} of its tolerance)")


if __name__ == "__main__":
    main()
