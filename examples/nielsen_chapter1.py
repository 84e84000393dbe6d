"""Nielsen's chapter 1 run (network.py): [784, 30, 10], quadratic cost, N(0, 1) weights,
30 epochs of mini-batches of 10 at learning rate 3.0.  network.py printed its accuracy on
the test images after every epoch; so does this script.

    python examples/nielsen_chapter1.py --data ../shared/data
"""
import time

import fastmlp
from _mnist import epochs, load, parse_args

args = parse_args(__doc__.split("\n\n")[0])
(X_train, y_train), (X_val, y_val), (X_test, y_test) = load(args.data, args.quick)
net = fastmlp.Network([784, 30, 10], cost="quadratic", init="normal", dtype=args.dtype,
                      seed=args.seed, backend=args.backend)
start = time.perf_counter()
history = net.fit(X_train, y_train, epochs=epochs(args), batch_size=10, lr=3.0,
                  validation_data=(X_test, y_test), verbose=True)
seconds = time.perf_counter() - start
print(f"test accuracy after epoch {history.epoch[-1]}: {net.evaluate(X_test, y_test)[1]:.4f} "
      f"(best epoch {history.best_epoch}: {max(history.val_accuracy):.4f}); "
      f"validation accuracy {net.evaluate(X_val, y_val)[1]:.4f}; {seconds:.1f} s in all")
