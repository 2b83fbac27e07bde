"""scikit-learn's estimator checks on GlassClassifier and GlassRegressor; the classifier in pipelines, grid search."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn", reason="scikit-learn is an optional extra: pip install glassnet[sklearn]")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_digits, load_iris  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.sklearn import GlassClassifier, GlassRegressor  # noqa: E402

ESTIMATORS = [GlassClassifier(random_state=0), GlassRegressor(random_state=0)]
# The one call every scikit-learn >= 1.3 takes (expected_failed_checks came in 1.6; no check is expected
# to fail). Before 1.6 it gives its cases as a generator, which pytest consumes once: a list here.
CHECKS = parametrize_with_checks(ESTIMATORS)
CASES = list(CHECKS.args[1])


@pytest.mark.parametrize(CHECKS.args[0], CASES, **CHECKS.kwargs)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_estimator_checks_are_collected_for_both_estimators():
    """Issue 19: the checks were once parametrised only on scikit-learn >= 1.6 and silently absent below."""
    names = [type(getattr(case, "values", case)[0]).__name__ for case in CASES]  # a tuple or a pytest.param
    assert names.count("GlassClassifier") >= 30 and names.count("GlassRegressor") >= 30, sklearn.__version__


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return train_test_split(x, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)  # 1797 images of 8x8 pixels, values 0..16, flattened to 64
    return train_test_split(x / 16.0, y, test_size=0.25, random_state=0, stratify=y)


def test_small_cnn_on_digits_reaches_97_percent(digits):
    x_train, x_test, y_train, y_test = digits
    clf = GlassClassifier(
        architecture="cnn",
        input_shape=(8, 8, 1),
        filters=(32,),
        hidden_layer_sizes=(64,),
        max_iter=15,
        learning_rate_init=0.002,
        random_state=0,
    )
    clf.fit(x_train, y_train)  # about 3 s on one core: 15 epochs of 1347 images
    accuracy = clf.score(x_test, y_test)
    assert accuracy >= 0.97, accuracy  # 0.978 to 0.987 over random_state 0..7
    kinds = [type(layer).__name__ for layer in clf.network_.layers]
    assert kinds == ["Conv2D", "ReLU", "MaxPool2D", "Flatten", "Dense", "ReLU", "Dense", "Softmax"]
    assert clf.n_features_in_ == 64
    assert len(clf.history_["loss"]) == 15


def test_string_labels_map_to_classes(iris):
    x_train, x_test, y_train, y_test = iris
    names = np.array(["setosa", "versicolor", "virginica"])
    clf = make_pipeline(StandardScaler(), GlassClassifier(max_iter=60, random_state=0))
    clf.fit(x_train, names[y_train])
    model = clf[-1]
    np.testing.assert_array_equal(model.classes_, names)
    predicted = clf.predict(x_test)
    assert predicted.dtype.kind == "U" and set(predicted) <= set(names)
    assert clf.score(x_test, names[y_test]) >= 0.9
    probs = clf.predict_proba(x_test)
    assert probs.shape == (len(x_test), 3) and probs.dtype == np.float64
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-12)
    np.testing.assert_array_equal(names[probs.argmax(axis=1)], predicted)


def test_any_label_values_binary_and_negative_ints(iris):
    x_train, _, y_train, _ = iris
    x = StandardScaler().fit_transform(x_train)
    y = np.where(y_train == 0, -7, 42)
    clf = GlassClassifier(max_iter=30, random_state=0).fit(x, y)
    np.testing.assert_array_equal(clf.classes_, [-7, 42])
    assert set(clf.predict(x)) == {-7, 42}
    assert clf.score(x, y) >= 0.95


def test_grid_search_over_a_pipeline(iris):
    x_train, x_test, y_train, y_test = iris
    pipe = make_pipeline(StandardScaler(), GlassClassifier(max_iter=30, random_state=0))
    grid = GridSearchCV(
        pipe,
        {"glassclassifier__hidden_layer_sizes": [(8,), (32,)], "glassclassifier__learning_rate_init": [0.001, 0.01]},
        cv=3,
    )
    grid.fit(x_train, y_train)
    assert set(grid.best_params_) == {"glassclassifier__hidden_layer_sizes", "glassclassifier__learning_rate_init"}
    assert grid.score(x_test, y_test) >= 0.9
    assert isinstance(grid.best_estimator_[-1].network_, gn.Network)


def test_clone_deepcopy_and_params():
    clf = GlassClassifier(hidden_layer_sizes=(10, 5), max_iter=3, random_state=1)
    params = clf.get_params()
    assert params["hidden_layer_sizes"] == (10, 5) and params["max_iter"] == 3 and params["random_state"] == 1
    assert clf.set_params(max_iter=4, learning_rate_init=0.01) is clf
    assert clf.max_iter == 4 and clf.learning_rate_init == 0.01
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == clf.get_params()
    assert copy.deepcopy(clf).get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        twin.predict(np.zeros((2, 4)))


def test_same_random_state_same_model_and_refit_starts_over(iris):
    x_train, x_test, y_train, _ = iris
    x_train = StandardScaler().fit(x_train).transform(x_train)
    a = GlassClassifier(max_iter=5, random_state=3).fit(x_train, y_train)
    b = GlassClassifier(max_iter=5, random_state=3).fit(x_train, y_train)
    np.testing.assert_array_equal(a.predict_proba(x_test), b.predict_proba(x_test))
    c = GlassClassifier(max_iter=5, random_state=4).fit(x_train, y_train)
    assert not np.array_equal(a.predict_proba(x_test), c.predict_proba(x_test))
    first = a.network_
    a.fit(x_train, y_train)  # a second fit builds a fresh network: same result, not 10 epochs
    assert a.network_ is not first and len(a.history_["loss"]) == 5
    np.testing.assert_array_equal(a.predict_proba(x_test), b.predict_proba(x_test))


def test_fitted_model_pickles(iris):
    x_train, x_test, y_train, _ = iris
    clf = GlassClassifier(max_iter=2, random_state=0).fit(x_train, y_train)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(x_test), clf.predict_proba(x_test))


def test_float64_dtype_runs_in_float64(iris):
    x_train, _, y_train, _ = iris
    clf = GlassClassifier(max_iter=2, dtype="float64", random_state=0).fit(x_train, y_train)
    assert {p.value.dtype for p in clf.network_.parameters()} == {np.dtype(np.float64)}
    clf = GlassClassifier(max_iter=2, random_state=0).fit(x_train, y_train)
    assert {p.value.dtype for p in clf.network_.parameters()} == {np.dtype(np.float32)}


def test_callable_architecture_gets_shape_and_classes(digits):
    x_train, x_test, y_train, y_test = digits
    seen = []

    def build(input_shape, n_classes):
        seen.append((input_shape, n_classes))
        return [gn.Flatten(), gn.Dense(64, 32), gn.Tanh(), gn.Dense(32, n_classes)]

    clf = GlassClassifier(
        architecture=build, input_shape=(8, 8, 1), max_iter=10, learning_rate_init=0.01, random_state=0
    )
    clf.fit(x_train, y_train)
    assert seen == [((8, 8, 1), 10)]
    assert isinstance(clf.network_.layers[-1], gn.Softmax)  # added, as the docstring says
    assert clf.score(x_test, y_test) >= 0.9


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input_shape": (8, 8, 2)}, r"input_shape=\(8, 8, 2\) holds 128 values, but X has 64 features"),
        ({"input_shape": (8, -8, 1)}, "positive ints"),
        ({"architecture": "cnn"}, r'architecture="cnn" needs images: set input_shape'),
        ({"architecture": "transformer"}, "architecture must be one of"),
        ({"hidden_layer_sizes": (10, 0)}, "hidden_layer_sizes must be a tuple of positive ints"),
        ({"dtype": "float16"}, 'dtype must be "float32" or "float64"'),
        ({"max_iter": 0}, "max_iter must be an int >= 1"),
        ({"alpha": -1.0}, "alpha must be a finite number >= 0"),
        ({"learning_rate_init": 0.0}, "learning_rate_init must be a positive"),
        ({"early_stopping": True, "validation_fraction": 1.0}, r"validation_fraction must be a number in \(0, 1\)"),
        ({"n_iter_no_change": 0}, "n_iter_no_change must be an int >= 1"),
        ({"optimizer": "adadelta"}, "unknown optimizer"),
    ],
)
def test_bad_hyper_parameters_fail_in_fit_with_clear_errors(digits, kwargs, match):
    x_train, _, y_train, _ = digits
    clf = GlassClassifier(**kwargs)  # __init__ never checks (scikit-learn's rule)
    with pytest.raises(ValueError, match=match):
        clf.fit(x_train[:50], y_train[:50])
    with pytest.raises(NotFittedError):  # a failed fit leaves no half-fitted model behind
        clf.predict(x_train[:5])


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least two classes"):
        GlassClassifier().fit(np.zeros((5, 3)), np.ones(5))


def test_loss_curve_and_predict_log_proba(iris):
    X, _, y, _ = iris
    clf = GlassClassifier(max_iter=4, random_state=0).fit(X, y)
    assert clf.loss_curve_ == clf.history_["loss"] and len(clf.loss_curve_) == 4
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X[:5])), clf.predict_proba(X[:5]))
