"""Data for the model pages: 1-D regression data (seeded generator or typed points) and
classification data (scikit-learn's bundled copies, no download; seeded Gaussian blobs).

Conventions, fixed here:

- Regression data live on a ``domain`` interval; the generator's true curves are defined on
  ``u = (x - lo) / (hi - lo)`` in [0, 1], so they look the same on every domain.
- Classification features are standardised (zero mean, unit variance per feature, population
  std); features that are constant in the data are dropped (they carry no information and would
  only add zero eigenvalues). With ``bias=True`` a column of ones is appended LAST.
- Typed points are parsed with plain ``float()`` per field, never ``eval``.

Pure numpy; scikit-learn is imported only when one of its bundled data sets is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

__all__ = [
    "CURVES",
    "DOMAINS",
    "RegressionData",
    "generate_regression",
    "PointsError",
    "parse_points",
    "MAX_POINTS",
    "MAX_ABS_VALUE",
    "CLASSIFICATION_SETS",
    "ClassificationData",
    "load_classification",
    "make_blobs",
    "standardise",
]

Array = np.ndarray

#: True curves of the generator, on u in [0, 1]: key -> (label, function).
CURVES: dict[str, tuple[str, Callable[[Array], Array]]] = {
    "sine": ("one period of a sine", lambda u: np.sin(2.0 * np.pi * u)),
    "cubic": ("a cubic", lambda u: 1.6 * (2.0 * (2.0 * u - 1.0) ** 3 - 1.5 * (2.0 * u - 1.0))),
    "step": ("a step (discontinuous)", lambda u: np.where(u < 0.5, -0.8, 0.8)),
    "line": ("a straight line", lambda u: 2.0 * u - 1.0),
}
#: Input intervals of the generator: label -> (lo, hi).
DOMAINS: dict[str, tuple[float, float]] = {"[−1, 1]": (-1.0, 1.0), "[0, 10]": (0.0, 10.0)}

#: Typed data: at most this many points, each coordinate at most this large in absolute value.
MAX_POINTS = 200
MAX_ABS_VALUE = 1e6
_MAX_TEXT = 20_000
_MAX_FIELD = 40


@dataclass(frozen=True, eq=False)
class RegressionData:
    """Points ``(x_n, y_n)``, both (N,), on the interval ``domain`` that the basis is built on.

    ``curve`` names the generator's true curve (a key of :data:`CURVES`), or None for typed data.
    """

    x: Array
    y: Array
    domain: tuple[float, float]
    curve: str | None = None

    @property
    def n(self) -> int:
        return int(self.x.size)

    def truth(self, x: Array) -> Array | None:
        """The true curve at ``x`` (no noise), or None for typed data."""
        if self.curve is None:
            return None
        lo, hi = self.domain
        return CURVES[self.curve][1]((np.asarray(x, dtype=float) - lo) / (hi - lo))


def generate_regression(
    curve: str = "sine",
    n: int = 20,
    noise: float = 0.2,
    seed: int = 0,
    domain: tuple[float, float] = (-1.0, 1.0),
    noise_seed: int | None = None,
) -> RegressionData:
    """``n`` points: x uniform on ``domain`` (sorted), ``y = truth(x) + noise * N(0, 1)``.

    x is drawn from ``seed``, the noise from ``noise_seed`` (default: ``seed``) on a separate
    stream, so a new ``noise_seed`` resamples y at the same x.

    >>> d = generate_regression("line", n=3, noise=0.0)
    >>> bool(np.allclose(d.y, d.truth(d.x)))
    True
    """
    if curve not in CURVES:
        raise ValueError(f"unknown curve {curve!r}; choose one of {', '.join(CURVES)}")
    if int(n) != n or not 1 <= n <= 10_000:
        raise ValueError(f"n must be an integer between 1 and 10000, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise!r}")
    lo, hi = float(domain[0]), float(domain[1])
    if not hi > lo:
        raise ValueError(f"domain must be an interval lo < hi, got {domain!r}")
    x = np.sort(np.random.default_rng([int(seed), 0]).uniform(lo, hi, int(n)))
    eps = np.random.default_rng([int(seed if noise_seed is None else noise_seed), 1]).standard_normal(int(n))
    data = RegressionData(x, np.zeros_like(x), (lo, hi), curve)
    y = data.truth(x) + float(noise) * eps
    for a in (x, y):
        a.setflags(write=False)
    return RegressionData(x, y, (lo, hi), curve)


class PointsError(ValueError):
    """Typed points could not be read; ``line`` is the 1-based line at fault (None: the whole text)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def _number(field: str, line: int, what: str) -> float:
    if len(field) > _MAX_FIELD:
        raise PointsError(f"line {line}: the {what} value is too long ({len(field)} characters)", line)
    shown = "`" + field.replace("`", "'") + "`"  # a code span: shown literally wherever Markdown renders it
    try:
        value = float(field)
    except ValueError:
        raise PointsError(f"line {line}: the {what} value {shown} is not a number", line) from None
    if not np.isfinite(value):
        raise PointsError(f"line {line}: the {what} value {shown} is not a finite number", line)
    if abs(value) > MAX_ABS_VALUE:
        raise PointsError(
            f"line {line}: the {what} value {shown} is too large (keep |{what}| <= {MAX_ABS_VALUE:g})",
            line,
        )
    return value


def parse_points(text: str, max_points: int = MAX_POINTS) -> tuple[Array, Array]:
    """Read ``x, y`` pairs, one per line, into two (N,) arrays (in the order typed).

    Fields are separated by a comma (or, failing that, by a semicolon, tab or spaces) and read with
    plain ``float()``. Blank lines and lines starting with ``#`` are skipped. Values must be finite
    and at most :data:`MAX_ABS_VALUE` in size; at most ``max_points`` points. Raises
    :class:`PointsError` naming the line and the problem.

    >>> parse_points("-1, 2\\n# a comment\\n0.5, 3e-1")
    (array([-1. ,  0.5]), array([2. , 0.3]))
    """
    if len(text) > _MAX_TEXT:
        raise PointsError(f"the text is too long ({len(text)} characters; at most {_MAX_TEXT})")
    xs: list[float] = []
    ys: list[float] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if len(xs) >= max_points:
            raise PointsError(f"line {number}: too many points (at most {max_points}); delete some lines", number)
        for sep in (",", ";", "\t", None):
            if sep is None or sep in line:
                fields = [f.strip() for f in line.split(sep)]
                break
        if len(fields) != 2:
            raise PointsError(
                f"line {number}: expected two numbers 'x, y', found {len(fields)} field"
                f"{'' if len(fields) == 1 else 's'}",
                number,
            )
        xs.append(_number(fields[0], number, "x"))
        ys.append(_number(fields[1], number, "y"))
    if not xs:
        raise PointsError("no points: type one 'x, y' pair per line, for example '0.5, 1.2'")
    return np.array(xs), np.array(ys)


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------

#: key -> label shown in the app.
CLASSIFICATION_SETS: dict[str, str] = {
    "blobs": "Blobs (synthetic, seeded)",
    "iris": "Iris (150 flowers, 4 features, 3 species)",
    "wine": "Wine (178 wines, 13 features, 3 cultivars)",
    "breast_cancer": "Breast cancer (569 tumours, 30 features, 2 classes)",
    "digits": "Digits (1797 images, 8×8 pixels, 10 digits)",
}


@dataclass(frozen=True, eq=False)
class ClassificationData:
    """Standardised inputs ``X`` (N, D) (bias column last if added) and labels (N,) in 0..K-1."""

    key: str
    X: Array
    labels: Array
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    bias: bool = True

    @property
    def n_examples(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def describe(self, max_listed: int = 12) -> str:
        """One line naming the features by number (a = 1..D), and any dropped constant features."""
        if self.n_features <= max_listed:
            text = "Features: " + ", ".join(f"{a + 1} = {name}" for a, name in enumerate(self.feature_names)) + "."
        else:
            text = f"{self.n_features} features: {self.feature_names[0]}, …, {self.feature_names[-1]}."
        if self.dropped:
            text += f" {len(self.dropped)} features are constant in this data set and were dropped."
        return text


def standardise(X: Array) -> tuple[Array, Array]:
    """``(X[:, keep] - mean) / std`` and the boolean mask ``keep`` of non-constant columns."""
    X = np.asarray(X, dtype=float)
    std = X.std(axis=0)
    keep = std > 1e-12 * np.maximum(np.abs(X).max(axis=0), 1.0)
    Xk = X[:, keep]
    return (Xk - Xk.mean(axis=0)) / std[keep], keep


def make_blobs(
    n_per_class: int = 30, k: int = 3, d: int = 2, spread: float = 1.0, seed: int = 0
) -> tuple[Array, Array]:
    """K Gaussian blobs in R^d: class centres evenly spread (distance about 2.5 apart), each point
    ``centre + spread * N(0, I)``; returns raw X (K n, d) and labels (K n,) ordered by class.

    >>> X, y = make_blobs(5, k=2, d=3)
    >>> X.shape, np.bincount(y).tolist()
    ((10, 3), [5, 5])
    """
    if not (2 <= k <= 10 and 1 <= d <= 20 and 1 <= n_per_class <= 1000 and spread > 0):
        raise ValueError("blobs need 2 <= k <= 10, 1 <= d <= 20, 1 <= n_per_class <= 1000, spread > 0")
    rng = np.random.default_rng([int(seed), 2])
    angle = 2.0 * np.pi * np.arange(k) / k
    centres = np.zeros((k, d))
    centres[:, 0] = 1.6 * np.cos(angle)
    if d > 1:
        centres[:, 1] = 1.6 * np.sin(angle)
    if d > 2:
        centres[:, 2:] = 0.8 * rng.standard_normal((k, d - 2))
    labels = np.repeat(np.arange(k), n_per_class)
    X = centres[labels] + spread * rng.standard_normal((labels.size, d))
    return X, labels


def _bundled(key: str) -> tuple[Array, Array, list[str], list[str]]:
    from sklearn import datasets as skd  # bundled CSV files inside the package: no download

    loader = {
        "iris": skd.load_iris,
        "wine": skd.load_wine,
        "breast_cancer": skd.load_breast_cancer,
        "digits": skd.load_digits,
    }[key]
    bunch = loader()
    names = [str(f) for f in getattr(bunch, "feature_names", [])] or [f"x{i}" for i in range(bunch.data.shape[1])]
    classes = [str(c) for c in bunch.target_names]
    return np.asarray(bunch.data, dtype=float), np.asarray(bunch.target, dtype=int), names, classes


def load_classification(
    key: str = "blobs",
    *,
    bias: bool = True,
    n_per_class: int = 30,
    k: int = 3,
    d: int = 2,
    spread: float = 1.0,
    seed: int = 0,
) -> ClassificationData:
    """One of :data:`CLASSIFICATION_SETS`, standardised, with a bias column last if ``bias``.

    The blob settings (``n_per_class, k, d, spread, seed``) are used for ``"blobs"`` only.

    >>> data = load_classification("blobs", k=3, d=2)
    >>> data.X.shape, data.feature_names
    ((90, 3), ('x₁', 'x₂', 'bias (1)'))
    """
    if key == "blobs":
        raw, labels = make_blobs(n_per_class, k, d, spread, seed)
        names = ["x" + "₁₂₃₄₅₆₇₈₉"[i] if i < 9 else f"x{i + 1}" for i in range(d)]
        classes = [f"class {c + 1}" for c in range(k)]
    elif key in CLASSIFICATION_SETS:
        raw, labels, names, classes = _bundled(key)
    else:
        raise ValueError(f"unknown data set {key!r}; choose one of {', '.join(CLASSIFICATION_SETS)}")
    X, keep = standardise(raw)
    kept = [n for n, k_ in zip(names, keep) if k_]
    dropped = tuple(n for n, k_ in zip(names, keep) if not k_)
    if bias:
        X = np.hstack([X, np.ones((X.shape[0], 1))])
        kept.append("bias (1)")
    X.setflags(write=False)
    labels = np.asarray(labels, dtype=int)
    labels.setflags(write=False)
    return ClassificationData(key, X, labels, tuple(kept), tuple(classes), dropped, bool(bias))
