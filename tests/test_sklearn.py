"""The scikit-learn estimators: scikit-learn's own checks, meta-estimators, and the
values they must reproduce (Network's own training, MLPClassifier's update rule)."""
import pickle
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn", reason="needs the sklearn extra")

from sklearn.base import clone  # noqa: E402
from sklearn.exceptions import ConvergenceWarning, NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import get_tags  # noqa: E402
from sklearn.utils.class_weight import compute_sample_weight  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import fastmlp  # noqa: E402
from fastmlp import datasets  # noqa: E402
from fastmlp.sklearn import FastMLPClassifier, FastMLPRegressor  # noqa: E402

ESTIMATORS = [FastMLPClassifier, FastMLPRegressor]

# Checks that cannot pass, and why.
SAMPLE_WEIGHTS_ARE_NOT_COPIES = (
    "SGD: a weight of k is not k copies of a sample; the copies would fall into "
    "different mini-batches and add updates to every epoch")
EXPECTED_FAILURES = {
    "check_sample_weight_equivalence_on_dense_data": SAMPLE_WEIGHTS_ARE_NOT_COPIES,
    "check_sample_weight_equivalence_on_sparse_data": SAMPLE_WEIGHTS_ARE_NOT_COPIES,
}


@parametrize_with_checks([FastMLPClassifier(random_state=0), FastMLPRegressor(random_state=0)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILURES)
def test_scikit_learn_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def digits():
    X, y = datasets.load_digits()
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


# --- against scikit-learn's MLPClassifier ---------------------------------------------------

def test_accuracy_on_digits_against_mlpclassifier(digits):
    """The same network, cost and schedule in both: 100 sigmoid neurons, softmax and
    log-loss, plain SGD at 0.5 on mini-batches of 10, 30 epochs, no L2, no momentum."""
    X_train, X_test, y_train, y_test = digits
    ours = FastMLPClassifier(random_state=0).fit(X_train, y_train).score(X_test, y_test)
    theirs_model = MLPClassifier(hidden_layer_sizes=(100,), activation="logistic", solver="sgd",
                                 learning_rate_init=0.5, batch_size=10, max_iter=30, alpha=0.0,
                                 momentum=0.0, n_iter_no_change=30, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = theirs_model.fit(X_train, y_train).score(X_test, y_test)
    print(f"held-out accuracy on digits: FastMLPClassifier {ours:.4f}, "
          f"MLPClassifier(solver='sgd') {theirs:.4f}")
    assert ours >= 0.95 and theirs >= 0.95
    assert abs(ours - theirs) <= 0.02


def test_one_epoch_is_mlpclassifiers_sgd_step(digits):
    """From the same weights, one epoch in order equals MLPClassifier's partial_fit with
    plain SGD: both average each mini-batch's log-loss gradient and step by lr times it."""
    X_train, _, y_train, _ = digits
    X, y = X_train[:200], y_train[:200]
    mlp = MLPClassifier(hidden_layer_sizes=(20,), activation="logistic", solver="sgd",
                        learning_rate_init=0.3, batch_size=10, alpha=0.0, momentum=0.0,
                        shuffle=False, random_state=0)
    mlp.partial_fit(X, y, classes=np.arange(10))
    before = mlp.coefs_[0].copy()
    net = fastmlp.Network([64, 20, 10], cost="log_likelihood")
    for layer, W, b in zip(net.layers, mlp.coefs_, mlp.intercepts_):
        layer.weights, layer.biases = W.T, b
    mlp.partial_fit(X, y)
    net.fit(X, y, epochs=1, batch_size=10, lr=0.3, shuffle=False)
    for layer, W, b in zip(net.layers, mlp.coefs_, mlp.intercepts_):
        np.testing.assert_allclose(layer.weights, W.T, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.biases, b, rtol=1e-9, atol=1e-12)
    assert np.abs(mlp.coefs_[0] - before).max() > 1e-2  # the epoch did move the weights


# --- meta-estimators ------------------------------------------------------------------------

def test_pipeline(digits):
    X_train, X_test, y_train, y_test = digits
    pipe = make_pipeline(StandardScaler(), FastMLPClassifier(hidden_layer_sizes=(30,),
                                                             learning_rate=0.1, random_state=0))
    accuracy = pipe.fit(X_train, y_train).score(X_test, y_test)
    assert accuracy >= 0.95
    scaled = StandardScaler().fit(X_train)
    alone = clone(pipe[-1]).fit(scaled.transform(X_train), y_train)
    np.testing.assert_array_equal(pipe.predict(X_test), alone.predict(scaled.transform(X_test)))


def test_cross_val_score_and_grid_search_agree(digits):
    """GridSearchCV's score for each candidate is cross_val_score's for those parameters."""
    X, _, y, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(20,), max_iter=10, random_state=0)
    grid = {"learning_rate": [0.05, 1.0]}
    search = GridSearchCV(model, grid, cv=3).fit(X, y)
    for params, mean in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        scores = cross_val_score(clone(model).set_params(**params), X, y, cv=3)
        assert scores.mean() == mean
        assert scores.min() >= (0.9 if params["learning_rate"] == 1.0 else 0.5)
    assert search.best_params_ == {"learning_rate": 1.0}
    assert search.best_score_ >= 0.9


# --- behaviour and fitted attributes --------------------------------------------------------

def test_string_labels_and_fitted_attributes(digits):
    X_train, X_test, y_train, y_test = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
                      "nine"])
    model = FastMLPClassifier(hidden_layer_sizes=(30,), max_iter=5, random_state=0)
    model.fit(X_train, names[y_train])
    np.testing.assert_array_equal(model.classes_, np.sort(names))
    by_index = model.classes_[np.argmax(model.predict_proba(X_test), axis=1)]
    np.testing.assert_array_equal(model.predict(X_test), by_index)
    assert np.mean(model.predict(X_test) == names[y_test]) >= 0.9
    assert [W.shape for W in model.coefs_] == [(64, 30), (30, 10)]
    assert [b.shape for b in model.intercepts_] == [(30,), (10,)]
    assert model.loss_curve_ == model.history_.train_cost and len(model.loss_curve_) == 5
    assert model.best_loss_ == min(model.loss_curve_) and model.n_iter_ == 5
    assert model.validation_scores_ is None and model.network_.sizes == [64, 30, 10]
    np.testing.assert_allclose(model.predict_proba(X_test).sum(axis=1), 1.0, rtol=1e-12)


def test_coefs_are_the_live_parameters(digits):
    X_train, X_test, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(10,), max_iter=1, random_state=0)
    model.fit(X_train, y_train)
    assert np.shares_memory(model.coefs_[0], model.network_.layers[0].weights)
    model.coefs_[1][:] = 0
    model.intercepts_[1][:] = np.arange(10)
    np.testing.assert_array_equal(model.predict(X_test), np.full(len(X_test), 9))


def test_refit_with_the_same_seed_gives_the_same_model(digits):
    X_train, X_test, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(10,), max_iter=2, random_state=3)
    first = model.fit(X_train, y_train).predict_proba(X_test)
    np.testing.assert_array_equal(model.fit(X_train, y_train).predict_proba(X_test), first)
    other = model.set_params(random_state=4).fit(X_train, y_train).predict_proba(X_test)
    assert not np.array_equal(other, first)


def test_fit_is_network_fit_with_the_drawn_seed(digits):
    """The estimator adds nothing to the training: the same Network trained directly, from
    the seed `random_state` resolves to, has the same weights."""
    X_train, _, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(15,), learning_rate=0.2, batch_size=7,
                              max_iter=3, l2=0.5, momentum=0.3, random_state=5)
    model.fit(X_train, y_train)
    seed, _ = np.random.RandomState(5).randint(np.iinfo(np.int32).max, size=2)
    net = fastmlp.Network([64, 15, 10], cost="log_likelihood", seed=int(seed))
    net.fit(X_train, y_train, epochs=3, batch_size=7, lr=0.2, l2=0.5, momentum=0.3)
    for layer, W in zip(net.layers, model.coefs_):
        np.testing.assert_array_equal(layer.weights, W.T)


def test_pickle_round_trip(digits):
    X_train, X_test, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(10,), max_iter=2, dtype="float32",
                              random_state=0).fit(X_train, y_train)
    copy = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(copy.predict_proba(X_test), model.predict_proba(X_test))
    assert copy.coefs_[0].dtype == np.float32 and copy.get_params() == model.get_params()


def test_readonly_memmap_inputs(digits, tmp_path):
    X_train, X_test, y_train, _ = digits
    np.save(tmp_path / "X.npy", X_train)
    X_mapped = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert not X_mapped.flags.writeable
    model = FastMLPClassifier(hidden_layer_sizes=(10,), max_iter=2, random_state=0)
    from_disk = model.fit(X_mapped, y_train).predict_proba(X_test)
    in_memory = clone(model).fit(X_train, y_train).predict_proba(X_test)
    np.testing.assert_array_equal(from_disk, in_memory)


def test_early_stopping_keeps_the_best_epoch(digits):
    X_train, _, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(20,), learning_rate=1.0, max_iter=200,
                              early_stopping=True, n_iter_no_change=3, random_state=0)
    model.fit(X_train, y_train)
    scores = model.validation_scores_
    assert scores == model.history_.val_accuracy and model.best_loss_ is None
    assert model.n_iter_ < 200 and model.n_iter_ == len(scores)
    best = int(np.argmax(scores))
    assert model.best_validation_score_ == scores[best] >= 0.9
    assert model.n_iter_ == best + 1 + 3
    assert model.history_.best_epoch == best + 1


def test_regressor_multi_output_and_validation_r2():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (400, 3))
    Y = np.column_stack([np.sin(2 * X[:, 0]) + X[:, 1], X[:, 1] * X[:, 2]])
    model = FastMLPRegressor(hidden_layer_sizes=(30,), max_iter=200, early_stopping=True,
                             random_state=0).fit(X, Y)
    assert model.predict(X).shape == (400, 2) and model.n_outputs_ == 2
    assert model.score(X, Y) >= 0.8
    assert model.best_validation_score_ == max(model.validation_scores_) >= 0.8
    single = clone(model).set_params(early_stopping=False).fit(X, Y[:, 0])
    assert single.predict(X).shape == (400,) and single.score(X, Y[:, 0]) >= 0.9


def test_regressor_cross_entropy_needs_targets_in_the_unit_interval():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match=r"targets in \[0, 1\]; y\[1, 0\] = 1.5"):
        FastMLPRegressor(cost="cross_entropy").fit(X, [0.5, 1.5, 0.0])


def test_bad_parameters_are_named():
    X, y = np.zeros((4, 2)), np.array([0, 1, 0, 1])
    cases = [(dict(hidden_layer_sizes=(10, 0)), r"hidden_layer_sizes\[1\] must be an integer"),
             (dict(cost="hinge"), "cost='hinge' is not one of 'log_likelihood'"),
             (dict(learning_rate=-1), "learning_rate must be finite, >= 0"),
             (dict(momentum=1.0), r"momentum must be finite, >= 0 and < 1.0"),
             (dict(max_iter=0), "max_iter must be an integer >= 1"),
             (dict(early_stopping=True, validation_fraction=0.0), "validation_fraction must be"),
             (dict(dtype="float16"), "dtype='float16' is not one of"),
             (dict(n_threads=0), "n_threads must be an integer >= 1")]
    for params, message in cases:
        with pytest.raises(ValueError, match=message):
            FastMLPClassifier(**params).fit(X, y)


def test_one_class_and_unfitted_errors():
    X = np.zeros((4, 2))
    with pytest.raises(ValueError, match=r"y holds one class only \(7\)"):
        FastMLPClassifier().fit(X, [7, 7, 7, 7])
    with pytest.raises(NotFittedError):
        FastMLPClassifier().predict(X)
    with pytest.raises(NotFittedError):
        FastMLPRegressor().coefs_


def test_tags():
    classifier, regressor = get_tags(FastMLPClassifier()), get_tags(FastMLPRegressor())
    assert classifier.estimator_type == "classifier" and classifier.classifier_tags.multi_class
    assert not classifier.classifier_tags.multi_label and classifier.input_tags.sparse
    assert regressor.estimator_type == "regressor" and regressor.target_tags.multi_output
    assert not regressor.input_tags.allow_nan and classifier.target_tags.required


def test_sparse_input_trains_and_predicts_as_dense(monkeypatch):
    """SciPy CSR and CSC matrices go to the network as compressed rows (never densified):
    the same model and predictions as the dense array on the dense path (forced: at this
    density a dense array would be compressed too)."""
    sparse = pytest.importorskip("scipy.sparse")
    monkeypatch.setattr(fastmlp.sparse, "SPARSE_BELOW", {"few rows": 0.0, "packed": 0.0})
    rng = np.random.default_rng(0)
    X = sparse.random(120, 300, density=0.03, format="csr", random_state=0)
    y = rng.integers(0, 3, 120)
    for Xs in (X, X.tocsc()):
        a = FastMLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(Xs, y)
        b = FastMLPClassifier(hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X.toarray(), y)
        for p, q in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_):
            np.testing.assert_allclose(p, q, rtol=1e-11, atol=1e-12)
        np.testing.assert_array_equal(a.predict(Xs), b.predict(X.toarray()))


# --- partial_fit, sample and class weights --------------------------------------------------

def test_partial_fit_continues_exactly_like_fit(digits):
    """k partial_fit calls in order are k epochs of one fit: the same seed draws the same
    initial network, and the momentum velocities carry over from call to call."""
    X_train, _, y_train, _ = digits
    params = dict(hidden_layer_sizes=(15,), momentum=0.5, l2=1.0, shuffle=False, random_state=2)
    fitted = FastMLPClassifier(max_iter=3, **params).fit(X_train, y_train)
    stepped = FastMLPClassifier(**params)
    for _ in range(3):
        stepped.partial_fit(X_train, y_train, classes=np.arange(10))
    for W_fit, W_step in zip(fitted.coefs_, stepped.coefs_):
        np.testing.assert_array_equal(W_step, W_fit)
    assert stepped.n_iter_ == 3 and stepped.loss_curve_ == fitted.loss_curve_


def test_partial_fit_errors(digits):
    X_train, _, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        model.partial_fit(X_train, y_train)
    model.partial_fit(X_train, y_train, classes=np.arange(10))
    with pytest.raises(ValueError, match="X has 63 features, but FastMLPClassifier is expecting 64"):
        model.partial_fit(X_train[:, 1:], y_train)
    with pytest.raises(ValueError, match=r"y holds labels \[11\] that are not in classes"):
        model.partial_fit(X_train[:2], [1, 11])
    with pytest.raises(ValueError, match="class_weight='balanced' needs the class frequencies"):
        FastMLPClassifier(class_weight="balanced").partial_fit(X_train, y_train, np.arange(10))


def test_equal_sample_weights_are_no_weights(digits):
    X_train, X_test, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(10,), max_iter=2, random_state=0)
    plain = model.fit(X_train, y_train).predict_proba(X_test)
    weighted = clone(model).fit(X_train, y_train, sample_weight=np.full(len(y_train), 3.0))
    np.testing.assert_array_equal(weighted.predict_proba(X_test), plain)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 5.0, 3: 0.5}])
def test_class_weight_is_sample_weight(digits, class_weight):
    X_train, X_test, y_train, _ = digits
    model = FastMLPClassifier(hidden_layer_sizes=(10,), max_iter=2, random_state=0)
    by_class = clone(model).set_params(class_weight=class_weight).fit(X_train, y_train)
    by_sample = model.fit(X_train, y_train,
                          sample_weight=compute_sample_weight(class_weight, y_train))
    np.testing.assert_array_equal(by_class.predict_proba(X_test), by_sample.predict_proba(X_test))


@pytest.mark.parametrize("cost,n_outputs", [("quadratic", 2), ("cross_entropy", 1)])
def test_regressor_early_stopping_keeps_the_epoch_of_its_best_score(cost, n_outputs):
    """The estimator's own validation score (R^2) picks the epoch early stopping restores,
    not the network's default (validation cost, or a sigmoid output's "accuracy")."""
    rng = np.random.default_rng(0)
    X = rng.random((300, 5))
    y = 1 / (1 + np.exp(-(X @ rng.normal(size=(5, n_outputs)) - 1)))
    model = FastMLPRegressor(hidden_layer_sizes=(6,), cost=cost, max_iter=60, learning_rate=0.5,
                             early_stopping=True, n_iter_no_change=5, random_state=0)
    model.fit(X, y.ravel() if n_outputs == 1 else y)
    scores = model.validation_scores_
    assert model.history_.best_epoch == int(np.argmax(scores)) + 1
    assert model.best_validation_score_ == max(scores)
