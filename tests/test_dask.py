"""Sweeps on a Dask cluster and training chunk by chunk from Dask arrays and memmaps."""
import tracemalloc

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="needs the sklearn extra")
pytest.importorskip("distributed", reason="needs the dask extra")

import dask.array as da  # noqa: E402
import joblib  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

import fastmlp  # noqa: E402
from fastmlp import datasets  # noqa: E402
from fastmlp.dask import FastmlpThreads, blocks  # noqa: E402
from fastmlp.incremental import partial_fit_chunks, row_chunks  # noqa: E402
from fastmlp.sklearn import FastMLPClassifier  # noqa: E402


def fastmlp_threads_seen():
    """fastmlp's thread count as threadpoolctl sees it in this process."""
    import threadpoolctl
    return [info["num_threads"] for info in threadpoolctl.threadpool_info()
            if info["user_api"] == "fastmlp"]


def threads_during_fit():
    """Train a small network and report fastmlp's thread count from inside its epochs."""
    X, y = datasets.load_digits()
    seen = []
    net = fastmlp.Network([64, 10, 10], seed=0)
    net.fit(X[:100], y[:100], epochs=2, batch_size=10, lr=1.0,
            callbacks=[lambda net, record: seen.extend(fastmlp_threads_seen())])
    return seen


@pytest.fixture(scope="module")
def client():
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        yield client


def test_each_worker_runs_fastmlp_on_its_own_thread_count(client):
    # A count other than 1 first, so the default (one per CPU) on a one-CPU machine
    # cannot pass for the plugin's work.
    client.run(fastmlp.set_num_threads, 3)
    assert list(client.run(fastmlp_threads_seen).values()) == [[3], [3]]
    client.register_plugin(FastmlpThreads())
    assert list(client.run(fastmlp_threads_seen).values()) == [[1], [1]]
    seen = client.gather([client.submit(threads_during_fit, pure=False, workers=[w])
                          for w in client.scheduler_info()["workers"]])
    assert seen == [[1, 1], [1, 1]]


def test_sweep_on_the_cluster_equals_the_local_sweep(client):
    client.register_plugin(FastmlpThreads())
    X, y = datasets.load_digits()
    X, y = X[:600], y[:600]
    grid = {"hidden_layer_sizes": [(10,), (30,)], "learning_rate": [0.1, 1.0]}
    model = FastMLPClassifier(max_iter=5, random_state=0)
    local = GridSearchCV(model, grid, cv=3).fit(X, y)
    with joblib.parallel_config("dask"):
        remote = GridSearchCV(model, grid, cv=3, n_jobs=-1).fit(X, y)
    assert remote.best_params_ == local.best_params_
    for key in ["mean_test_score"] + [f"split{i}_test_score" for i in range(3)]:
        np.testing.assert_array_equal(remote.cv_results_[key], local.cv_results_[key])
    assert local.best_score_ >= 0.8


def digits_repeated(copies):
    X, y = datasets.load_digits()
    return np.tile(X[:1500], (copies, 1)), np.tile(y[:1500], copies)


def test_partial_fit_over_dask_blocks_is_one_epoch_in_order():
    """With shuffle=False and blocks a multiple of the batch size, one pass over the
    blocks is one epoch of fit over the whole array (momentum carried between calls)."""
    X, y = digits_repeated(2)
    X_dask, y_dask = da.from_array(X, chunks=(150, 16)), da.from_array(y, chunks=300)
    assert X_dask.numblocks == (20, 4)
    params = dict(hidden_layer_sizes=(20,), momentum=0.5, shuffle=False, random_state=0)
    chunked = partial_fit_chunks(FastMLPClassifier(**params), blocks(X_dask, y_dask),
                                 classes=np.arange(10))
    whole = FastMLPClassifier(max_iter=1, **params).fit(X, y)
    for W_chunked, W_whole in zip(chunked.coefs_, whole.coefs_):
        np.testing.assert_allclose(W_chunked, W_whole, rtol=1e-12, atol=1e-12)
    assert chunked.n_iter_ == 20


def test_partial_fit_over_a_memmap_reads_one_chunk_at_a_time(tmp_path):
    X, y = digits_repeated(8)  # 12,000 x 64 float64: 6 MB on disk
    np.save(tmp_path / "X.npy", X)
    X_disk = np.load(tmp_path / "X.npy", mmap_mode="r")
    params = dict(hidden_layer_sizes=(20,), random_state=0)
    in_memory = partial_fit_chunks(FastMLPClassifier(**params), row_chunks(X, y, 500),
                                   classes=np.arange(10))
    tracemalloc.start()
    from_disk = partial_fit_chunks(FastMLPClassifier(**params), row_chunks(X_disk, y, 500),
                                   classes=np.arange(10))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    for W_disk, W_memory in zip(from_disk.coefs_, in_memory.coefs_):
        np.testing.assert_array_equal(W_disk, W_memory)
    assert peak < X.nbytes / 4, f"peak {peak} bytes traced for a {X.nbytes}-byte array"


def test_blocks_and_row_chunks_cover_the_data_in_order():
    X = np.arange(60.0).reshape(20, 3)
    y = np.arange(20)
    got = list(blocks(da.from_array(X, chunks=(6, 2)), da.from_array(y, chunks=4)))
    assert [len(b) for b, _ in got] == [6, 6, 6, 2]
    np.testing.assert_array_equal(np.concatenate([b for b, _ in got]), X)
    np.testing.assert_array_equal(np.concatenate([t for _, t in got]), y)
    assert [len(t) for _, t in row_chunks(X, y, 7)] == [7, 7, 6]
    with pytest.raises(ValueError, match="X has 20 rows, y has 19"):
        list(row_chunks(X, y[:-1], 7))
