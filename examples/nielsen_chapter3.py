"""Nielsen's chapter 3 run (network2.py): [784, 100, 10], cross-entropy cost, weights
N(0, 1/n_in), L2 regularisation lmbda = 5.0, 30 epochs of mini-batches of 10 at learning
rate 0.5, monitoring the validation images.

    python examples/nielsen_chapter3.py --data ../shared/data
"""
import time

import fastmlp
from _mnist import epochs, load, parse_args

args = parse_args(__doc__.split("\n\n")[0])
(X_train, y_train), (X_val, y_val), (X_test, y_test) = load(args.data, args.quick)
net = fastmlp.Network([784, 100, 10], cost="cross_entropy", init="scaled", dtype=args.dtype,
                      seed=args.seed, backend=args.backend)
start = time.perf_counter()
history = net.fit(X_train, y_train, epochs=epochs(args), batch_size=10, lr=0.5, l2=5.0,
                  validation_data=(X_val, y_val), verbose=True)
seconds = time.perf_counter() - start
print(f"validation accuracy after epoch {history.epoch[-1]}: {history.val_accuracy[-1]:.4f}; "
      f"test accuracy {net.evaluate(X_test, y_test)[1]:.4f}; {seconds:.1f} s in all")
