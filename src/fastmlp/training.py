"""The training loop shared by every backend: epochs, validation, schedules, stopping."""
import sys
import time

import numpy as np

SCHEDULES = ("constant", "halve")
# Nielsen's chapter 3 schedule halves the rate until it is 1/128 of the initial one.
HALVE_FLOOR = 1 / 128


class StopTraining(Exception):
    """Raise this from a callback to end training after the current epoch."""


class DivergenceError(FloatingPointError):
    """The cost became NaN or infinite; the weights are back at the last good epoch."""


def _progress_bar(progress, epochs, n):
    """A tqdm bar over the samples of every epoch, or None.  progress=None: only on a
    terminal, if tqdm is there."""
    if progress is False:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress:
            raise ImportError("progress=True needs tqdm: pip install 'fastmlp[progress]'") from None
        return None
    if progress is None and not sys.stderr.isatty():
        return None
    return tqdm(total=epochs * n, unit="sample", unit_scale=True, leave=False)


class _Best:
    """The best validation score so far, its epoch and a copy of its parameters."""

    def __init__(self):
        self.score, self.epoch, self.params, self.stale = -np.inf, None, None, 0

    def update(self, score, epoch, params, keep_params):
        if score > self.score:
            self.score, self.epoch, self.stale = score, epoch, 0
            if keep_params:
                self.params = [p.copy() for p in params]
            return True
        self.stale += 1
        return False


def _restore(params, saved):
    for p, s in zip(params, saved):
        p[...] = s


def run(net, trainer, X, Y, validation, *, history, velocities, score, sample_scale, epochs, lr,
        decay, shuffle, early_stopping, lr_schedule, lr_patience, callbacks, progress, verbose,
        monitor=None):
    """Train `net` with `trainer` for up to `epochs` epochs, appending to `history`.

    ``X, Y`` and ``validation`` (None or ``(Xv, Yv)``) are checked arrays of the network's
    dtype.  Of `net` this uses its public state: ``parameters()``, ``rng``,
    ``epochs_trained`` (advanced epoch by epoch) and ``output``; callbacks receive it.
    ``velocities`` are momentum's arrays (restored with the parameters), ``score(X, Y)``
    returns ``(cost, accuracy)`` of checked arrays, ``decay`` is the per-step weight decay.
    ``monitor(net, record)``, when given, is the validation score (higher is better) that
    picks the best epoch, early stopping and "halve" watch; by default the validation
    accuracy, or for an identity output minus the validation cost.

    A failed epoch (the cost became NaN or infinite) or an interrupted one (Ctrl-C, during
    the epoch or its validation pass) is rolled back: parameters and velocities return to
    the start of that epoch, so that they, ``epochs_trained`` and `history` always
    describe the same completed epochs.
    """
    params = net.parameters() + list(velocities)
    n = X.shape[0]
    classifier = net.output != "identity"
    best = _Best()
    bar = _progress_bar(progress, epochs, n)
    start_epoch = net.epochs_trained
    try:
        for e in range(start_epoch + 1, start_epoch + epochs + 1):
            started = time.perf_counter()
            good = [p.copy() for p in params]  # the network at the end of the last good epoch
            order = net.rng.permutation(n) if shuffle else None
            on_progress = None
            if bar is not None:
                done_before = bar.n
                on_progress = lambda done: bar.update(done_before + done - bar.n)  # noqa: E731
            try:  # the epoch and its validation pass: an interrupt anywhere rolls it back
                cost_sum, correct, failed = trainer.epoch(X, Y, order, lr, decay, sample_scale,
                                                          on_progress)
                if failed is None and not all(np.isfinite(p).all() for p in params):
                    failed = -(-n // trainer.batch_size) - 1  # the epoch's last update broke it
                val_cost = val_accuracy = None
                if failed is None and validation is not None:
                    val_cost, val_accuracy = score(*validation)
            except KeyboardInterrupt:
                _restore(params, good)
                history.stopped = "interrupted"
                raise
            if failed is not None:
                _restore(params, good)
                history.stopped = "diverged"
                raise DivergenceError(
                    f"training diverged in epoch {e}, mini-batch {failed + 1}: the cost became "
                    f"NaN or infinite. The weights are as they were at the end of epoch {e - 1}. "
                    f"Try a smaller learning rate than lr={lr:g}.")
            net.epochs_trained = e
            history.append(epoch=e, train_cost=cost_sum / n,
                           train_accuracy=correct / n if classifier else None,
                           val_cost=val_cost, val_accuracy=val_accuracy, lr=lr,
                           seconds=time.perf_counter() - started)
            if verbose:
                _report(history, validation)
            if bar is not None:
                bar.set_postfix(epoch=e, cost=f"{cost_sum / n:.4f}",
                                **({"val_acc": f"{val_accuracy:.4f}"} if val_accuracy else {}))

            stop = None
            if validation is not None:
                score_now = (monitor(net, history.records()[-1]) if monitor is not None
                             else val_accuracy if classifier else -val_cost)
                improved = best.update(score_now, e, params,
                                       keep_params=early_stopping is not None)
                if early_stopping is not None and best.stale >= early_stopping:
                    stop = "early_stopping"
                if lr_schedule == "halve" and not improved and best.stale % lr_patience == 0:
                    lr /= 2
                    if lr < history.lr[0] * HALVE_FLOOR:
                        stop = stop or "lr_schedule"
            if callable(lr_schedule):
                lr = float(lr_schedule(e, lr))
            try:
                for callback in callbacks:
                    callback(net, history.records()[-1])
            except StopTraining:
                stop = stop or "callback"
            if stop:
                history.stopped = stop
                break
        else:
            history.stopped = "epochs"
    except KeyboardInterrupt:  # also after an epoch was recorded (in a callback, say)
        history.stopped = "interrupted"
        raise
    finally:
        if bar is not None:
            bar.close()
    if early_stopping is not None and best.params is not None and best.epoch != net.epochs_trained:
        _restore(params, best.params)
    history.best_epoch = best.epoch
    return history


def _report(history, validation):
    """Print one line per epoch, in the style of Nielsen's network.py."""
    r = history.records()[-1]
    if validation is not None and r["val_accuracy"] is not None:
        n_val = validation[0].shape[0]
        head = f"Epoch {r['epoch']}: {round(r['val_accuracy'] * n_val)} / {n_val}"
    else:
        head = f"Epoch {r['epoch']} complete"
    parts = [f"train cost {r['train_cost']:.4f}"]
    if r["train_accuracy"] is not None:
        parts.append(f"train accuracy {r['train_accuracy']:.4f}")
    if r["val_cost"] is not None:
        parts.append(f"validation cost {r['val_cost']:.4f}")
    parts += [f"lr {r['lr']:g}", f"{r['seconds']:.2f} s"]
    print(f"{head} ({', '.join(parts)})", flush=True)
