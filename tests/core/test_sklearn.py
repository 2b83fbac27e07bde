"""GlassClassifier: scikit-learn's estimator checks, pipelines, grid search, digits with a CNN."""

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
from glassnet.sklearn import GlassClassifier  # noqa: E402

SKLEARN_1_6 = tuple(int(p) for p in sklearn.__version__.split(".")[:2]) >= (1, 6)


def expected_failed_checks(estimator: GlassClassifier) -> dict[str, str]:
    """The checks GlassClassifier is known to fail, and why. Every other check must pass.

    Checks that scikit-learn itself skips here: those with sample_weight (fit takes none),
    check_array_api_input (needs SCIPY_ARRAY_API), and the pandas variant of
    check_classifier_data_not_an_array when pandas is not installed.
    """
    if estimator.dtype == "float32":
        return {
            "check_methods_subset_invariance": (
                "float32 matrix products of a 60-row batch and of a 6-row batch may differ in the last "
                "bits (~3e-7 in a probability), above the check's 1e-7 tolerance; dtype='float64' passes"
            )
        }
    return {}


if SKLEARN_1_6:

    @parametrize_with_checks(
        [GlassClassifier(random_state=0), GlassClassifier(dtype="float64", random_state=0)],
        expected_failed_checks=expected_failed_checks,
    )
    def test_scikit_learn_estimator_checks(estimator, check):
        check(estimator)


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
        hidden_units=(64,),
        epochs=15,
        learning_rate=0.002,
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
    clf = make_pipeline(StandardScaler(), GlassClassifier(epochs=60, random_state=0))
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
    clf = GlassClassifier(epochs=30, random_state=0).fit(x, y)
    np.testing.assert_array_equal(clf.classes_, [-7, 42])
    assert set(clf.predict(x)) == {-7, 42}
    assert clf.score(x, y) >= 0.95


def test_grid_search_over_a_pipeline(iris):
    x_train, x_test, y_train, y_test = iris
    pipe = make_pipeline(StandardScaler(), GlassClassifier(epochs=30, random_state=0))
    grid = GridSearchCV(
        pipe,
        {"glassclassifier__hidden_units": [(8,), (32,)], "glassclassifier__learning_rate": [0.001, 0.01]},
        cv=3,
    )
    grid.fit(x_train, y_train)
    assert set(grid.best_params_) == {"glassclassifier__hidden_units", "glassclassifier__learning_rate"}
    assert grid.score(x_test, y_test) >= 0.9
    assert isinstance(grid.best_estimator_[-1].network_, gn.Network)


def test_clone_deepcopy_and_params():
    clf = GlassClassifier(hidden_units=(10, 5), epochs=3, random_state=1)
    params = clf.get_params()
    assert params["hidden_units"] == (10, 5) and params["epochs"] == 3 and params["random_state"] == 1
    assert clf.set_params(epochs=4, learning_rate=0.01) is clf
    assert clf.epochs == 4 and clf.learning_rate == 0.01
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == clf.get_params()
    assert copy.deepcopy(clf).get_params() == clf.get_params()
    with pytest.raises(NotFittedError):
        twin.predict(np.zeros((2, 4)))


def test_same_random_state_same_model_and_refit_starts_over(iris):
    x_train, x_test, y_train, _ = iris
    x_train = StandardScaler().fit(x_train).transform(x_train)
    a = GlassClassifier(epochs=5, random_state=3).fit(x_train, y_train)
    b = GlassClassifier(epochs=5, random_state=3).fit(x_train, y_train)
    np.testing.assert_array_equal(a.predict_proba(x_test), b.predict_proba(x_test))
    c = GlassClassifier(epochs=5, random_state=4).fit(x_train, y_train)
    assert not np.array_equal(a.predict_proba(x_test), c.predict_proba(x_test))
    first = a.network_
    a.fit(x_train, y_train)  # a second fit builds a fresh network: same result, not 10 epochs
    assert a.network_ is not first and len(a.history_["loss"]) == 5
    np.testing.assert_array_equal(a.predict_proba(x_test), b.predict_proba(x_test))


def test_fitted_model_pickles(iris):
    x_train, x_test, y_train, _ = iris
    clf = GlassClassifier(epochs=2, random_state=0).fit(x_train, y_train)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(x_test), clf.predict_proba(x_test))


def test_float64_dtype_runs_in_float64(iris):
    x_train, _, y_train, _ = iris
    clf = GlassClassifier(epochs=2, dtype="float64", random_state=0).fit(x_train, y_train)
    assert {p.value.dtype for p in clf.network_.parameters()} == {np.dtype(np.float64)}
    clf = GlassClassifier(epochs=2, random_state=0).fit(x_train, y_train)
    assert {p.value.dtype for p in clf.network_.parameters()} == {np.dtype(np.float32)}


def test_callable_architecture_gets_shape_and_classes(digits):
    x_train, x_test, y_train, y_test = digits
    seen = []

    def build(input_shape, n_classes):
        seen.append((input_shape, n_classes))
        return [gn.Flatten(), gn.Dense(64, 32), gn.Tanh(), gn.Dense(32, n_classes)]

    clf = GlassClassifier(architecture=build, input_shape=(8, 8, 1), epochs=10, learning_rate=0.01, random_state=0)
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
        ({"hidden_units": (10, 0)}, "hidden_units must be a tuple of positive ints"),
        ({"dtype": "float16"}, 'dtype must be "float32" or "float64"'),
        ({"epochs": 0}, "epochs must be an int >= 1"),
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
    clf = GlassClassifier(epochs=4, random_state=0).fit(X, y)
    assert clf.loss_curve_ == clf.history_["loss"] and len(clf.loss_curve_) == 4
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X[:5])), clf.predict_proba(X[:5]))
