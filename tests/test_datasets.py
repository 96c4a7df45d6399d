"""Data for the model pages: the seeded regression generator, the typed-points parser (plain float()
per field, line-numbered errors, bounded) and the classification loaders (standardised, bias last)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hessian_explorer.datasets import (
    CLASSIFICATION_SETS,
    CURVES,
    MAX_POINTS,
    PointsError,
    generate_regression,
    load_classification,
    make_blobs,
    parse_points,
    standardise,
)


@pytest.mark.parametrize("curve", list(CURVES))
def test_generator_is_seeded_and_noise_free_data_lies_on_the_curve(curve):
    a = generate_regression(curve, n=25, noise=0.3, seed=4)
    b = generate_regression(curve, n=25, noise=0.3, seed=4)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.y, b.y)
    assert np.all(np.diff(a.x) >= 0) and a.x.min() >= -1 and a.x.max() <= 1
    clean = generate_regression(curve, n=25, noise=0.0, seed=4)
    np.testing.assert_allclose(clean.y, clean.truth(clean.x))


def test_new_noise_seed_keeps_x_and_changes_y():
    a = generate_regression("sine", n=10, seed=1)
    b = generate_regression("sine", n=10, seed=1, noise_seed=2)
    assert np.array_equal(a.x, b.x) and not np.allclose(a.y, b.y)


def test_curves_look_the_same_on_every_domain():
    a = generate_regression("cubic", n=7, noise=0.0, domain=(-1.0, 1.0))
    b = generate_regression("cubic", n=7, noise=0.0, domain=(0.0, 10.0))
    np.testing.assert_allclose(a.y, b.y)  # same u = (x - lo)/(hi - lo) draws
    np.testing.assert_allclose((a.x + 1) / 2, b.x / 10)


@pytest.mark.parametrize("bad", [dict(curve="nope"), dict(n=0), dict(noise=-1.0), dict(domain=(1.0, 1.0))])
def test_generator_rejects_bad_settings(bad):
    with pytest.raises(ValueError):
        generate_regression(**bad)


def test_parse_points_reads_pairs_in_order_with_comments_and_blank_lines():
    x, y = parse_points("# x, y\n\n1, 2\n -3.5 ,4e-1\n0\t7\n5;6\n8 9")
    assert x.tolist() == [1.0, -3.5, 0.0, 5.0, 8.0]
    assert y.tolist() == [2.0, 0.4, 7.0, 6.0, 9.0]


@pytest.mark.parametrize("text, line, words", [
    ("1, 2\n3", 2, "found 1 field"),
    ("1, 2, 3", 1, "found 3 fields"),
    ("1, 2\n\nfoo, 3", 3, "`foo` is not a number"),
    ("[a](http://x.y), 1", 1, "`[a](http://x.y)` is not a number"),
    ("1, nan", 1, "not a finite number"),
    ("inf, 1", 1, "not a finite number"),
    ("1e9, 1", 1, "too large"),
    ("__import__('os'), 1", 1, "is not a number"),
    ("1, " + "9" * 50, 1, "too long"),
])
def test_parse_points_names_the_line_and_the_problem(text, line, words):
    with pytest.raises(PointsError) as info:
        parse_points(text)
    assert info.value.line == line and f"line {line}" in str(info.value) and words in str(info.value)


def test_parse_points_is_bounded():
    ok = "\n".join(f"{i}, {i}" for i in range(MAX_POINTS))
    assert parse_points(ok)[0].size == MAX_POINTS
    with pytest.raises(PointsError, match=f"at most {MAX_POINTS}"):
        parse_points(ok + "\n1, 1")
    with pytest.raises(PointsError, match="too long"):
        parse_points("1, 1\n" * 10_000)
    with pytest.raises(PointsError, match="no points"):
        parse_points("# nothing\n\n")


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=300))
def test_random_text_only_ever_raises_points_error(text):
    try:
        x, y = parse_points(text)
    except PointsError:
        return
    assert x.shape == y.shape and np.all(np.isfinite(x)) and np.all(np.isfinite(y))


def test_standardise_drops_constant_columns():
    X = np.column_stack([np.arange(5.0), np.full(5, 3.0), np.arange(5.0) ** 2])
    Z, keep = standardise(X)
    assert keep.tolist() == [True, False, True]
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(Z.std(axis=0), 1)


def test_blobs_are_seeded_and_balanced():
    X, y = make_blobs(7, k=4, d=3, seed=5)
    X2, _ = make_blobs(7, k=4, d=3, seed=5)
    assert X.shape == (28, 3) and np.bincount(y).tolist() == [7] * 4 and np.array_equal(X, X2)


@pytest.mark.parametrize("key", list(CLASSIFICATION_SETS))
def test_classification_sets_are_standardised_with_bias_last(key):
    data = load_classification(key)
    X = data.X
    assert X.shape[0] == data.labels.size and data.n_features == len(data.feature_names)
    np.testing.assert_array_equal(X[:, -1], 1.0)
    np.testing.assert_allclose(X[:, :-1].mean(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(X[:, :-1].std(axis=0), 1, atol=1e-10)
    assert set(np.unique(data.labels)) == set(range(data.n_classes))
    assert data.describe()


def test_digits_drop_constant_pixels_and_bias_is_optional():
    data = load_classification("digits", bias=False)
    assert data.n_features == 64 - len(data.dropped) and len(data.dropped) > 0
    assert "dropped" in load_classification("digits").describe()
    with pytest.raises(ValueError, match="unknown data set"):
        load_classification("mnist")
