"""Scenarios the reliability tests run in a separate Python process.

``python subprocess_scenarios.py <name> [args...]``: each scenario prints what it sees,
one JSON object per line (flushed), for the test that started it to check.  A test that
kills, interrupts or forks runs here, so that a crash or a hang ends this process and
not the test session.
"""
import hashlib
import json
import multiprocessing
import os
import sys
import threading
import time

import numpy as np

import fastmlp
from helpers import toy_data  # this script's folder is first on sys.path


def say(**fields):
    print(json.dumps(fields), flush=True)


def digest(net):
    """SHA-256 of every parameter's bytes, in order, and of momentum's velocities when
    they are not all zero (zero velocities and none are the same state)."""
    h = hashlib.sha256()
    for p in net.parameters():
        h.update(p.tobytes())
    velocities = getattr(net, "_velocities", None)
    if velocities is not None and any(v.any() for group in velocities for v in group):
        for group in velocities:
            for v in group:
                h.update(v.tobytes())
    return h.hexdigest()


def train_toy(seed=0, threads=None):
    """A small network trained for 3 epochs: the digest of its parameters."""
    X, y = toy_data(m=200, n_in=20, n_classes=4, seed=seed)
    net = fastmlp.Network([20, 64, 4], seed=seed)
    net.fit(X, y, epochs=3, batch_size=32, lr=0.5, momentum=0.5, threads=threads)
    return digest(net)


# --- saving ---------------------------------------------------------------------------------

def save_big(path, sizes):
    """Save a ~200 MB network to `path`; the test kills or interrupts the save."""
    net = fastmlp.Network(json.loads(sizes), init="glorot", seed=1)
    net.epochs_trained = 7  # marks the new file apart from the old one
    try:  # from the moment the test may send its signal
        say(event="saving", t=time.monotonic())
        net.save(path)
    except KeyboardInterrupt:
        say(event="interrupted", files=sorted(os.listdir(os.path.dirname(path))))
        return
    say(event="saved", files=sorted(os.listdir(os.path.dirname(path))))


# --- Ctrl-C during fit ----------------------------------------------------------------------

def interrupted_fit(n_rows, threads):
    """Train a network of W3's sizes; the test sends SIGINT twice.

    First during the first epoch of the first fit, then during the second epoch of a
    second fit.  A watcher thread prints "moving" once the weights have changed within
    the current epoch, so the test knows its signal lands inside an epoch.  After each
    interruption, report the time, the network's state and whether it equals the state
    at the start of the interrupted epoch.
    """
    rng = np.random.default_rng(0)
    X = rng.uniform(0, 1, (int(n_rows), 784)).astype(np.float32)
    y = rng.integers(0, 10, int(n_rows))
    net = fastmlp.Network([784, 1024, 1024, 10], dtype="float32", seed=0)
    marks = {}

    def mark_epoch_start():
        marks.update(digest=digest(net), output_weights=net.layers[-1].weights.copy(), moved=False)

    def after_epoch(net, record):
        mark_epoch_start()
        say(event="epoch", epoch=record["epoch"])

    def watch():
        while True:
            start = marks.get("output_weights")
            if start is not None and not marks["moved"] and \
                    not np.array_equal(net.layers[-1].weights, start):
                marks["moved"] = True
                say(event="moving")
            time.sleep(0.005)

    threading.Thread(target=watch, daemon=True).start()
    for attempt in (1, 2):
        mark_epoch_start()
        say(event="fitting", attempt=attempt)
        try:
            net.fit(X, y, epochs=3, batch_size=128, lr=0.1, momentum=0.9, threads=int(threads),
                    callbacks=[after_epoch])
            say(event="finished", attempt=attempt)
        except KeyboardInterrupt:
            caught = time.monotonic()
            history = net.history
            say(event="interrupted", attempt=attempt, t=caught,
                epochs_trained=net.epochs_trained,
                history_epochs=None if history is None else list(history.epoch),
                stopped=None if history is None else history.stopped,
                rolled_back=digest(net) == marks["digest"],
                finite=all(np.isfinite(p).all() for p in net.parameters()))
        marks.pop("output_weights")


# --- fork and multiprocessing ---------------------------------------------------------------

def _wait_child(pid, timeout):
    """The child's exit status, or None when it has not exited within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return None


def _fork_and_train(expected):
    """Fork; the child trains the toy network on 2 threads and checks the digest."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if train_toy(threads=2) == expected else 3)
    return _wait_child(pid, timeout=60)


def fork_after_threads(rounds):
    """Train on 2 threads, fork, train again in the child: never a hang, same result."""
    expected = train_toy(threads=2)
    codes = [_fork_and_train(expected) for _ in range(int(rounds))]
    say(codes=codes)


def fork_while_training():
    """Fork while another thread of the parent trains: the trainer runs from the end of its
    first epoch until every fork is done, and must be alive at each fork."""
    expected = train_toy(threads=2)
    X = np.random.default_rng(1).uniform(0, 1, (4000, 400))
    busy = fastmlp.Network([400, 512, 10], seed=1)
    first_epoch, done = threading.Event(), threading.Event()

    def until_done(net, record):
        first_epoch.set()
        if done.is_set():
            raise fastmlp.StopTraining

    trainer = threading.Thread(target=busy.fit, args=(X, np.zeros(4000, dtype=int)),
                               kwargs=dict(epochs=10**6, batch_size=256, lr=0.1, threads=2,
                                           callbacks=[until_done]))
    trainer.start()
    try:
        assert first_epoch.wait(timeout=60), "the trainer did not finish its first epoch"
        codes = []
        for fork in range(3):
            assert trainer.is_alive(), f"the trainer had stopped before fork {fork}"
            codes.append(_fork_and_train(expected))
    finally:
        done.set()
        trainer.join()
    assert busy.history.stopped == "callback", busy.history.stopped
    say(codes=codes)


def _worker(seed):
    return train_toy(seed, threads=2)


def pool(method):
    """Train in a multiprocessing pool started by `method` after training with threads."""
    expected = [train_toy(seed, threads=2) for seed in range(4)]
    context = multiprocessing.get_context(method)
    with context.Pool(2) as workers:
        result = workers.map_async(_worker, range(4)).get(timeout=120)
    say(equal=result == expected)


SCENARIOS = {f.__name__: f for f in (save_big, interrupted_fit, fork_after_threads,
                                      fork_while_training, pool)}

if __name__ == "__main__":
    SCENARIOS[sys.argv[1]](*sys.argv[2:])
