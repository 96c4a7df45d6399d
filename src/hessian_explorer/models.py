"""Models whose gradients and Hessians are known in closed form.

Two models, each with its exact derivatives, built from matrix products (no loops over examples):

- :class:`LeastSquares` -- linear least squares on basis functions (seed 001),
  ``L(theta) = weight * sum_n (y_n - phi_n^T theta)^2 + ridge * |theta|^2``.
- :class:`SoftmaxRegression` -- multinomial logistic regression (seed 002),
  ``L(w) = -sum_n log p(y_n | x_n, w)`` with class-major parameters ``w = [w^(1); ...; w^(K)]``.

Both losses use the SUM convention (not the mean), so Hessians grow with N.  For models too large
to hold H, :func:`top_eigenpairs` and :func:`spectral_density` only need a Hessian-vector product.

Pure numpy/scipy: no Streamlit, no autodiff.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
import scipy.linalg
import scipy.sparse.linalg

__all__ = [
    "polynomial_features",
    "rbf_features",
    "fourier_features",
    "SingularProblemError",
    "Diagnosis",
    "diagnose",
    "LeastSquares",
    "SoftmaxRegression",
    "ExampleTerm",
    "EigenPairs",
    "top_eigenpairs",
    "SpectralDensity",
    "spectral_density",
    "MAX_CONDITION",
]

#: A normal-equation matrix whose condition number exceeds this is treated as singular: in double
#: precision its smallest eigenvalue is below rounding error of the largest (1 / machine epsilon).
MAX_CONDITION: float = 1.0 / np.finfo(float).eps

Array = np.ndarray


# --------------------------------------------------------------------------------------------
# Basis functions
# --------------------------------------------------------------------------------------------


def _as_1d(x: Array | list[float] | float, name: str = "x") -> Array:
    arr = np.atleast_1d(np.asarray(x, dtype=float))
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of inputs, got shape {arr.shape}; flatten it")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinity; remove those points")
    return arr


def polynomial_features(x: Array | list[float], degree: int) -> Array:
    """Design matrix of monomials: row n is ``[1, x_n, x_n^2, ..., x_n^degree]``.

    ``x`` has shape (N,); the result has shape (N, degree + 1) (seed 001's ``Phi(X)``).

    >>> polynomial_features([1.0, 2.0, 3.0], 2)
    array([[1., 1., 1.],
           [1., 2., 4.],
           [1., 3., 9.]])
    """
    if int(degree) != degree or degree < 0:
        raise ValueError(f"degree must be a non-negative integer, got {degree!r}")
    return np.vander(_as_1d(x), int(degree) + 1, increasing=True)


def rbf_features(x: Array | list[float], centers: Array | list[float], width: float) -> Array:
    """Gaussian bumps plus a bias: row n is ``[1, exp(-(x_n - c_j)^2 / (2 width^2)) for c_j]``.

    ``x`` (N,), ``centers`` (M,), ``width > 0``; the result has shape (N, M + 1).

    >>> rbf_features([0.0], [0.0, 1.0], width=1.0).round(4)
    array([[1.    , 1.    , 0.6065]])
    """
    x_arr, c_arr = _as_1d(x), _as_1d(centers, "centers")
    if not width > 0:
        raise ValueError(f"width must be positive, got {width!r}")
    bumps = np.exp(-((x_arr[:, None] - c_arr[None, :]) ** 2) / (2.0 * width**2))
    return np.hstack([np.ones((x_arr.size, 1)), bumps])


def fourier_features(x: Array | list[float], n_frequencies: int, period: float = 1.0) -> Array:
    """Truncated Fourier basis: ``[1, sin(2 pi k x / period), cos(2 pi k x / period)]``, k = 1..n.

    Columns are interleaved by frequency: 1, sin_1, cos_1, sin_2, cos_2, ...; ``x`` (N,) gives
    (N, 2 * n_frequencies + 1).

    >>> fourier_features([0.25], 1).round(12)
    array([[1., 1., 0.]])
    """
    if int(n_frequencies) != n_frequencies or n_frequencies < 0:
        raise ValueError(f"n_frequencies must be a non-negative integer, got {n_frequencies!r}")
    if not period > 0:
        raise ValueError(f"period must be positive, got {period!r}")
    x_arr = _as_1d(x)
    k = np.arange(1, int(n_frequencies) + 1)
    angle = 2.0 * np.pi * x_arr[:, None] * k[None, :] / period
    out = np.empty((x_arr.size, 2 * k.size + 1))
    out[:, 0] = 1.0
    out[:, 1::2] = np.sin(angle)
    out[:, 2::2] = np.cos(angle)
    return out


# --------------------------------------------------------------------------------------------
# Least squares and the ways its normal equations fail
# --------------------------------------------------------------------------------------------


class SingularProblemError(ValueError):
    """The normal equations have no unique solution; the message names the cause and the way out.

    ``diagnosis`` holds the :class:`Diagnosis` that produced the message.
    """

    def __init__(self, message: str, diagnosis: "Diagnosis | None" = None) -> None:
        super().__init__(message)
        self.diagnosis = diagnosis


def _format_condition(cond: float) -> str:
    if not np.isfinite(cond):
        return "inf"
    return f"{cond:.0e}".replace("e+", "e").replace("e0", "e")


@dataclass(frozen=True)
class Diagnosis:
    """Why ``weight * Phi^T Phi + ridge * I`` is (or is not) safely invertible.

    ``cause`` and ``remedy`` are None when the system is fine.  ``condition_number`` is that of
    the Hessian ``2 * (weight * Phi^T Phi + ridge * I)`` (inf when singular).
    """

    n_points: int
    n_basis: int
    n_distinct_rows: int
    rank: int
    condition_number: float
    cause: str | None
    remedy: str | None

    @property
    def is_singular(self) -> bool:
        return self.cause is not None

    @property
    def message(self) -> str | None:
        """``"<cause>: <remedy>"``, the text of the :class:`SingularProblemError`, or None."""
        return None if self.cause is None else f"{self.cause}: {self.remedy}"


def diagnose(
    Phi: Array,
    ridge: float = 0.0,
    weight: float = 1.0,
    max_condition: float = MAX_CONDITION,
) -> Diagnosis:
    """Explain whether the least-squares normal equations can be solved, and if not, why.

    Checks in order (the first that applies is the cause): fewer points than basis functions,
    repeated x values (identical rows of ``Phi``), linearly dependent columns (numerical rank of
    ``Phi`` below P), and a condition number above ``max_condition``.  With ``ridge > 0`` only
    the last can apply.  Uses the SVD of ``Phi`` (N, P); ``Phi^T Phi`` is never formed.

    >>> diagnose(polynomial_features([0.0, 1.0], 2)).cause
    'fewer data points (N=2) than basis functions (P=3)'
    """
    Phi = np.asarray(Phi, dtype=float)
    if Phi.ndim != 2:
        raise ValueError(f"Phi must be a 2-D (N, P) design matrix, got shape {Phi.shape}")
    n, p = Phi.shape
    s = np.linalg.svd(Phi, compute_uv=False) if Phi.size else np.zeros(0)
    eig = np.zeros(p)
    eig[: s.size] = weight * s**2
    eig += ridge
    cond = float(eig.max() / eig.min()) if p and eig.min() > 0 else float("inf")
    tol = (s.max() if s.size else 0.0) * max(n, p) * np.finfo(float).eps
    rank = int(np.sum(s > tol))
    distinct = int(np.unique(Phi, axis=0).shape[0]) if n else 0

    cause = remedy = None
    if ridge <= 0 and n < p:
        cause = f"fewer data points (N={n}) than basis functions (P={p})"
        remedy = "add data points, lower the degree, or add ridge > 0"
    elif ridge <= 0 and distinct < p:
        cause = (
            f"repeated x values leave only {distinct} distinct points for {p} basis functions"
        )
        remedy = "use distinct x values, lower the degree, or add ridge > 0"
    elif ridge <= 0 and rank < p:
        cause = f"columns of Φ are linearly dependent (rank {rank} < {p})"
        remedy = "remove redundant basis functions or add ridge > 0"
    elif not cond <= max_condition:
        name = "ΦᵀΦ" if ridge <= 0 else "ΦᵀΦ + ridge·I"
        cause = f"{name} is ill-conditioned (condition number {_format_condition(cond)})"
        remedy = "lower the degree or " + ("add ridge" if ridge <= 0 else "increase ridge")
    return Diagnosis(n, p, distinct, rank, cond, cause, remedy)


@dataclass(frozen=True, eq=False)
class LeastSquares:
    """Linear least squares, SUM convention:

    ``L(theta) = weight * sum_n (y_n - phi_n^T theta)^2 + ridge * |theta|^2``

    with ``Phi`` (N, P) whose rows are ``phi_n^T`` and ``y`` (N,).  The model is linear in theta,
    so the Hessian ``2 weight Phi^T Phi + 2 ridge I`` is exact, constant, independent of y, and
    equal to the Gauss-Newton matrix.  Arrays are copied and made read-only.

    >>> ls = LeastSquares(polynomial_features([0.0, 1.0, 2.0], 1), [1.0, 3.0, 5.0])
    >>> ls.solve()
    array([1., 2.])
    >>> ls.hessian()
    array([[ 6.,  6.],
           [ 6., 10.]])
    """

    Phi: Array
    y: Array
    weight: float = 1.0
    ridge: float = 0.0

    def __post_init__(self) -> None:
        Phi = np.array(self.Phi, dtype=float)
        y = np.array(self.y, dtype=float).reshape(-1)
        if Phi.ndim != 2:
            raise ValueError(f"Phi must be a 2-D (N, P) design matrix, got shape {Phi.shape}")
        if y.shape[0] != Phi.shape[0]:
            raise ValueError(
                f"y has {y.shape[0]} values but Phi has {Phi.shape[0]} rows; give one y per row"
            )
        if not (np.all(np.isfinite(Phi)) and np.all(np.isfinite(y))):
            raise ValueError("Phi or y contains NaN or infinity; remove those points")
        if not self.weight > 0:
            raise ValueError(f"weight must be positive, got {self.weight!r}")
        if not self.ridge >= 0:
            raise ValueError(f"ridge must be non-negative, got {self.ridge!r}")
        Phi.setflags(write=False)
        y.setflags(write=False)
        object.__setattr__(self, "Phi", Phi)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "weight", float(self.weight))
        object.__setattr__(self, "ridge", float(self.ridge))

    @property
    def n_params(self) -> int:
        return self.Phi.shape[1]

    def _theta(self, theta: Array) -> Array:
        theta = np.asarray(theta, dtype=float).reshape(-1)
        if theta.shape != (self.n_params,):
            raise ValueError(f"theta must have {self.n_params} entries, got {theta.size}")
        return theta

    def residuals(self, theta: Array) -> Array:
        """``Phi theta - y``, shape (N,)."""
        return self.Phi @ self._theta(theta) - self.y

    def loss(self, theta: Array) -> float:
        """The SUM-convention loss above, a float."""
        theta = self._theta(theta)
        r = self.residuals(theta)
        return float(self.weight * r @ r + self.ridge * theta @ theta)

    def gradient(self, theta: Array) -> Array:
        """``2 weight Phi^T (Phi theta - y) + 2 ridge theta``, shape (P,)."""
        theta = self._theta(theta)
        return 2.0 * self.weight * (self.Phi.T @ self.residuals(theta)) + 2.0 * self.ridge * theta

    def hessian(self, theta: Array | None = None) -> Array:
        """``2 weight Phi^T Phi + 2 ridge I``, (P, P); exact and independent of theta and y."""
        ridge_term = 2.0 * self.ridge * np.eye(self.n_params)
        return 2.0 * self.weight * (self.Phi.T @ self.Phi) + ridge_term

    def hvp(self, theta: Array | None, v: Array) -> Array:
        """``H v = 2 weight Phi^T (Phi v) + 2 ridge v`` without forming H, shape (P,)."""
        v = self._theta(v)
        return 2.0 * self.weight * (self.Phi.T @ (self.Phi @ v)) + 2.0 * self.ridge * v

    def per_example_gradients(self, theta: Array) -> Array:
        """Rows ``g_n = 2 weight (phi_n^T theta - y_n) phi_n``, shape (N, P); data terms only.

        Their column sums give the gradient without the ridge term.
        """
        return 2.0 * self.weight * self.residuals(theta)[:, None] * self.Phi

    def empirical_fisher(self, theta: Array) -> Array:
        """``sum_n g_n g_n^T`` of :meth:`per_example_gradients`, (P, P): depends on y and theta."""
        G = self.per_example_gradients(theta)
        return G.T @ G

    def gauss_newton(self, theta: Array | None = None) -> Array:
        """``2 J^T J`` (+ ridge), ``J = sqrt(weight) Phi``: equals :meth:`hessian` (linear)."""
        return self.hessian(theta)

    def diagnose(self, max_condition: float = MAX_CONDITION) -> Diagnosis:
        """:func:`diagnose` for this problem's Phi, ridge and weight."""
        return diagnose(self.Phi, self.ridge, self.weight, max_condition)

    def condition_number(self) -> float:
        """Condition number of the Hessian (from the SVD of Phi); inf when singular."""
        return self.diagnose().condition_number

    def solve(self, max_condition: float = MAX_CONDITION) -> Array:
        """The minimiser ``(weight Phi^T Phi + ridge I)^{-1} weight Phi^T y``, shape (P,).

        Solved as the least-squares problem
        ``[sqrt(weight) Phi; sqrt(ridge) I] theta ~ [sqrt(weight) y; 0]`` (SVD-based ``lstsq``;
        no inverse, no normal matrix).  Raises :class:`SingularProblemError`
        naming the cause when the minimiser is not unique or not numerically determined.
        """
        diag = self.diagnose(max_condition)
        if diag.is_singular:
            raise SingularProblemError(
                f"cannot solve the normal equations: {diag.message}", diag
            )
        sw = np.sqrt(self.weight)
        A, b = sw * self.Phi, sw * self.y
        if self.ridge > 0:
            A = np.vstack([A, np.sqrt(self.ridge) * np.eye(self.n_params)])
            b = np.concatenate([b, np.zeros(self.n_params)])
        theta, *_ = np.linalg.lstsq(A, b, rcond=None)
        return theta


# --------------------------------------------------------------------------------------------
# Softmax regression (multinomial logistic regression)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ExampleTerm:
    """One example's Hessian term ``(Lambda_p - p p^T) (x) x x^T`` (seed 002), shown piece by piece.

    ``p`` (K,) class probabilities; ``p_covariance`` (K, K) is ``diag(p) - p p^T``; ``xxT`` (D, D)
    the outer product ``x x^T`` (a matrix, not the number ``x^T x``); ``kron`` (P, P) their
    Kronecker product restricted to the free classes, i.e. this example's contribution to H.
    """

    n: int
    x: Array
    p: Array
    p_covariance: Array
    xxT: Array
    kron: Array


class SoftmaxRegression:
    """Multinomial logistic regression with loss ``L(w) = -sum_n log p(y_n | x_n, w)`` (SUM).

    ``X`` (N, D) rows are inputs (add a column of ones yourself for a bias); ``y`` integer labels
    in 0..K-1 (N,) or one-hot (N, K).  Parameters are class-major as in seed 002:
    ``w = [w^(1); ...; w^(K)]``, each ``w^(k)`` in R^D, logits ``z_nk = w^(k)^T x_n``.

    ``reference_class=True`` fixes the last class's weights at 0 (``p_k = exp(z_k) / (1 + sum_j
    exp(z_j))``), so ``w`` has (K-1) D entries; with K = 2 this is binary logistic regression.
    Without it the model is overparametrised: adding the same u to every class changes nothing,
    so H has null vectors ``[u; ...; u]``.

    >>> m = SoftmaxRegression(np.eye(2), [0, 1])
    >>> m.n_params, round(m.loss(np.zeros(4)) / float(np.log(2)), 12)  # two examples, p = 1/2
    (4, 2.0)
    """

    def __init__(
        self,
        X: Array,
        y: Array,
        n_classes: int | None = None,
        reference_class: bool = False,
    ) -> None:
        X = np.array(X, dtype=float)
        if X.ndim != 2:
            raise ValueError(f"X must be a 2-D (N, D) array of inputs, got shape {X.shape}")
        if not np.all(np.isfinite(X)):
            raise ValueError("X contains NaN or infinity; remove those rows")
        n = X.shape[0]
        y_arr = np.asarray(y)
        if y_arr.ndim == 1:
            if y_arr.shape[0] != n:
                raise ValueError(f"y has {y_arr.shape[0]} labels but X has {n} rows")
            if y_arr.size and not np.all(np.equal(np.mod(y_arr, 1), 0)):
                raise ValueError("y must hold integer labels 0..K-1 (or one-hot rows)")
            labels = y_arr.astype(int)
            if labels.size and labels.min() < 0:
                raise ValueError("labels must be non-negative integers 0..K-1")
            k = int(n_classes) if n_classes is not None else int(labels.max(initial=-1)) + 1
            if labels.size and labels.max() >= k:
                raise ValueError(
                    f"label {labels.max()} is out of range for n_classes={k}; raise n_classes"
                )
        elif y_arr.ndim == 2:
            if y_arr.shape[0] != n:
                raise ValueError(f"y has {y_arr.shape[0]} rows but X has {n} rows")
            Y = np.asarray(y_arr, dtype=float)
            if not (np.all((Y == 0) | (Y == 1)) and np.all(Y.sum(axis=1) == 1)):
                raise ValueError("a 2-D y must be one-hot: each row all zeros except a single 1")
            k = Y.shape[1]
            if n_classes is not None and int(n_classes) != k:
                raise ValueError(f"one-hot y has {k} columns but n_classes={n_classes}")
            labels = Y.argmax(axis=1)
        else:
            raise ValueError(f"y must be labels (N,) or one-hot (N, K), got shape {y_arr.shape}")
        if k < 2:
            raise ValueError(f"softmax regression needs at least 2 classes, got K={k}")
        Y = np.zeros((n, k))
        Y[np.arange(n), labels] = 1.0
        for a in (X, Y, labels):
            a.setflags(write=False)
        self._X, self._Y, self._labels = X, Y, labels
        self._k = k
        self._reference = bool(reference_class)

    # -- shapes and conventions ---------------------------------------------------------------

    @property
    def X(self) -> Array:
        return self._X

    @property
    def Y(self) -> Array:
        """One-hot labels, (N, K)."""
        return self._Y

    @property
    def labels(self) -> Array:
        return self._labels

    @property
    def n_examples(self) -> int:
        return self._X.shape[0]

    @property
    def n_features(self) -> int:
        return self._X.shape[1]

    @property
    def n_classes(self) -> int:
        return self._k

    @property
    def reference_class(self) -> bool:
        return self._reference

    @property
    def n_free_classes(self) -> int:
        """Classes with their own parameters: K - 1 with a reference class, else K."""
        return self._k - 1 if self._reference else self._k

    @property
    def n_params(self) -> int:
        return self.n_free_classes * self.n_features

    def __repr__(self) -> str:
        return (
            f"SoftmaxRegression(N={self.n_examples}, D={self.n_features}, K={self.n_classes}, "
            f"reference_class={self._reference})"
        )

    def _w(self, w: Array, name: str = "w") -> Array:
        w = np.asarray(w, dtype=float).reshape(-1)
        if w.shape != (self.n_params,):
            raise ValueError(
                f"{name} must have n_params = {self.n_free_classes} x {self.n_features} = "
                f"{self.n_params} entries (class-major), got {w.size}"
            )
        return w

    def _log_probabilities(self, w: Array) -> Array:
        W = self._w(w).reshape(self.n_free_classes, self.n_features)
        z = self._X @ W.T
        if self._reference:
            z = np.hstack([z, np.zeros((self.n_examples, 1))])
        z = z - z.max(axis=1, keepdims=True)
        return z - np.log(np.exp(z).sum(axis=1, keepdims=True))

    # -- value and derivatives -----------------------------------------------------------------

    def probabilities(self, w: Array) -> Array:
        """``p_nk = p(k | x_n, w)``, (N, K) for all K classes; computed by stable log-sum-exp."""
        return np.exp(self._log_probabilities(w))

    def loss(self, w: Array) -> float:
        """``-sum_n log p(y_n | x_n, w)``, a float (SUM convention)."""
        return float(-np.sum(self._Y * self._log_probabilities(w)))

    def gradient(self, w: Array) -> Array:
        """``sum_n (p_n - y_n)_{free} (x) x_n``, shape (P,), class-major."""
        R = (self.probabilities(w) - self._Y)[:, : self.n_free_classes]
        return (R.T @ self._X).reshape(-1)

    def hessian(self, w: Array) -> Array:
        """Exact ``sum_n (diag p_n - p_n p_n^T) (x) x_n x_n^T`` over the free classes, (P, P).

        Built as ``blockdiag_k(X^T diag(p_k) X) - Z^T Z`` with ``Z_n = p_n (x) x_n`` (N, P), two
        BLAS products; cost O(N P^2), memory O(N P + P^2).
        """
        F, D = self.n_free_classes, self.n_features
        Pf = self.probabilities(w)[:, :F]
        Z = (Pf[:, :, None] * self._X[:, None, :]).reshape(self.n_examples, F * D)
        H = -(Z.T @ Z)
        blocks = np.matmul(Z.reshape(self.n_examples, F, D).transpose(1, 2, 0), self._X)
        idx = np.arange(F)
        H4 = H.reshape(F, D, F, D)
        H4[idx, :, idx, :] += blocks
        return 0.5 * (H + H.T)

    def _hvp_at(self, Pf: Array, v: Array) -> Array:
        U = self._X @ v.reshape(self.n_free_classes, self.n_features).T  # (N, F): x_n^T v_k
        M = Pf * (U - np.sum(Pf * U, axis=1, keepdims=True))  # (diag p - p p^T) u_n
        return (M.T @ self._X).reshape(-1)

    def hvp(self, w: Array, v: Array) -> Array:
        """``H(w) v`` without forming H: O(N P) time, O(N K + P) memory, shape (P,)."""
        Pf = self.probabilities(w)[:, : self.n_free_classes]
        return self._hvp_at(Pf, self._w(v, "v"))

    def per_example_gradients(self, w: Array) -> Array:
        """Rows ``g_n = (p_n - y_n)_{free} (x) x_n`` (gradient of example n's loss), (N, P)."""
        R = (self.probabilities(w) - self._Y)[:, : self.n_free_classes]
        return (R[:, :, None] * self._X[:, None, :]).reshape(self.n_examples, self.n_params)

    def fisher(self, w: Array) -> Array:
        """Exact Fisher ``sum_n sum_k p_nk s_nk s_nk^T`` with labels from the model, (P, P).

        ``s_nk = grad log p(k | x_n, w) = (e_k - p_n)_{free} (x) x_n``; the expectation over the
        K labels is summed exactly (one BLAS product per class, memory O(N P)).  Mathematically
        equal to :meth:`hessian`, because the softmax log-likelihood is an exponential family in
        its logits; this is a separate computation, so the two can be compared.
        """
        F = self.n_free_classes
        P = self.probabilities(w)
        out = np.zeros((self.n_params, self.n_params))
        for k in range(self._k):  # loop over classes, not examples
            e = np.zeros(self._k)
            e[k] = 1.0
            R = np.sqrt(P[:, k : k + 1]) * (e[None, :F] - P[:, :F])
            S = (R[:, :, None] * self._X[:, None, :]).reshape(self.n_examples, self.n_params)
            out += S.T @ S
        return out

    def empirical_fisher(self, w: Array) -> Array:
        """``sum_n g_n g_n^T`` with the observed labels, (P, P); not the Hessian in general."""
        G = self.per_example_gradients(w)
        return G.T @ G

    def example_term(self, w: Array, n: int) -> ExampleTerm:
        """Example n's Hessian term and its two factors; see :class:`ExampleTerm`."""
        if not 0 <= int(n) < self.n_examples:
            raise ValueError(f"example index n={n} out of range 0..{self.n_examples - 1}")
        n = int(n)
        F = self.n_free_classes
        w = self._w(w)
        x = self._X[n].copy()
        p = self.probabilities(w)[n]
        A = np.diag(p) - np.outer(p, p)
        xxT = np.outer(x, x)
        return ExampleTerm(n=n, x=x, p=p, p_covariance=A, xxT=xxT, kron=np.kron(A[:F, :F], xxT))

    def bohning_bound(self) -> Array:
        """Böhning's (1992) fixed upper bound ``B = 1/2 (I_F - 1 1^T / K) (x) X^T X``, (P, P).

        F = K - 1 with a reference class (Böhning's form), F = K otherwise.  ``B - H(w)`` is
        positive semidefinite for every w, so B gives a monotone, Newton-like step for any w.
        """
        F, K = self.n_free_classes, self._k
        return 0.5 * np.kron(np.eye(F) - np.ones((F, F)) / K, self._X.T @ self._X)

    # -- fitting and spectra -------------------------------------------------------------------

    def fit(
        self,
        max_iter: int = 100,
        tol: float = 1e-8,
        w0: Array | None = None,
        method: Literal["auto", "newton", "lbfgs"] = "auto",
    ) -> Array:
        """Minimise the loss; returns w, shape (P,).

        ``method="newton"``: Newton steps with an Armijo backtracking line search; the system is
        shifted by ``1e-8 * trace(H) / P`` only when the Hessian is singular (always for the
        overparametrised form, whose null space the gradient never enters) or Cholesky fails.
        ``"lbfgs"``: scipy L-BFGS-B on the mean loss (never forms H).  ``"auto"`` picks Newton
        for P <= 2000.  Stops when ``max |gradient| / N <= tol``.  The overparametrised result is
        centred (sum over classes of w^(k) is 0), the minimum-norm representative.  On linearly
        separable data no minimiser exists: the iterates grow until ``max_iter``.
        """
        w = np.zeros(self.n_params) if w0 is None else self._w(w0, "w0").copy()
        if method == "auto":
            method = "newton" if self.n_params <= 2000 else "lbfgs"
        scale = max(self.n_examples, 1)
        if method == "lbfgs":
            import scipy.optimize  # only here: a fifth of a second to import, which no page needs

            res = scipy.optimize.minimize(
                lambda v: self.loss(v) / scale,
                w,
                jac=lambda v: self.gradient(v) / scale,
                method="L-BFGS-B",
                options={"maxiter": max_iter, "gtol": tol, "ftol": 1e-15},
            )
            w = res.x
        elif method == "newton":
            for _ in range(max_iter):
                g = self.gradient(w)
                if np.max(np.abs(g)) / scale <= tol:
                    break
                d = -self._newton_solve(self.hessian(w), g)
                f0, slope, t = self.loss(w), float(g @ d), 1.0
                while t > 1e-12 and self.loss(w + t * d) > f0 + 1e-4 * t * slope:
                    t *= 0.5
                w = w + t * d
        else:
            raise ValueError(f"unknown method {method!r}; use 'auto', 'newton' or 'lbfgs'")
        if not self._reference:
            W = w.reshape(self._k, self.n_features)
            w = (W - W.mean(axis=0, keepdims=True)).reshape(-1)
        return w

    def _newton_solve(self, H: Array, g: Array) -> Array:
        """``H^{-1} g`` by Cholesky; shifted by ``1e-8 trace(H) / P`` if H is (near) singular."""
        if self._reference:
            try:
                return scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
            except np.linalg.LinAlgError:
                pass
        shift = 1e-8 * max(np.trace(H) / self.n_params, np.finfo(float).tiny)
        return scipy.linalg.cho_solve(scipy.linalg.cho_factor(H + shift * np.eye(len(g))), g)

    def hessian_operator(self, w: Array) -> scipy.sparse.linalg.LinearOperator:
        """H(w) as a scipy LinearOperator built from :meth:`hvp` (probabilities computed once)."""
        Pf = self.probabilities(w)[:, : self.n_free_classes]
        return scipy.sparse.linalg.LinearOperator(
            (self.n_params, self.n_params),
            matvec=lambda v: self._hvp_at(Pf, np.asarray(v, dtype=float).reshape(-1)),
            dtype=float,
        )

    def top_eigenvalues(self, w: Array, k: int = 5) -> Array:
        """The k largest Hessian eigenvalues at w, descending, via Lanczos on :meth:`hvp`."""
        op = self.hessian_operator(w)
        return top_eigenpairs(op.matvec, self.n_params, k).values


# --------------------------------------------------------------------------------------------
# Spectra of large Hessians from Hessian-vector products only
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EigenPairs:
    """``values`` (k,) descending, ``vectors`` (P, k) unit columns: ``H v_i = values[i] v_i``."""

    values: Array
    vectors: Array


def top_eigenpairs(
    hvp: Callable[[Array], Array],
    n_params: int,
    k: int = 5,
    tol: float = 0.0,
    seed: int = 0,
) -> EigenPairs:
    """The k algebraically largest eigenpairs of a symmetric H given only ``v -> H v``.

    Implicitly restarted Lanczos (``scipy.sparse.linalg.eigsh``, which="LA") on a LinearOperator:
    memory O(P k), H never formed.  Exact up to ``tol`` (0 means machine precision).  For
    P <= k + 1 Lanczos cannot run, so H is assembled from P products and diagonalised.

    >>> top_eigenpairs(lambda v: np.arange(1.0, 6.0) * v, 5, k=2).values
    array([5., 4.])
    """
    n_params, k = int(n_params), int(k)
    if not 1 <= k <= n_params:
        raise ValueError(f"k must be between 1 and n_params={n_params}, got {k}")
    if n_params <= k + 1:
        H = np.column_stack([hvp(e) for e in np.eye(n_params)])
        vals, vecs = np.linalg.eigh(0.5 * (H + H.T))
        order = np.argsort(vals)[::-1][:k]
        return EigenPairs(vals[order], vecs[:, order])
    op = scipy.sparse.linalg.LinearOperator(
        (n_params, n_params),
        matvec=lambda v: np.asarray(hvp(np.asarray(v, dtype=float).reshape(-1)), dtype=float),
        dtype=float,
    )
    v0 = np.random.default_rng(seed).standard_normal(n_params)
    vals, vecs = scipy.sparse.linalg.eigsh(op, k=k, which="LA", tol=tol, v0=v0)
    order = np.argsort(vals)[::-1]
    return EigenPairs(vals[order], vecs[:, order])


@dataclass(frozen=True, eq=False)
class SpectralDensity:
    """Smoothed eigenvalue density of H from stochastic Lanczos quadrature.

    ``density`` (G,) on ``grid`` (G,) approximates ``(1/P) sum_i N(t; lambda_i, width^2)`` and
    integrates to about 1.  ``nodes`` and ``weights`` (n_vectors, n_steps) are the Gauss
    quadrature rules (Ritz values, squared first components; zero weight marks padding).
    """

    grid: Array
    density: Array
    nodes: Array
    weights: Array
    width: float


def spectral_density(
    hvp: Callable[[Array], Array],
    n_params: int,
    n_vectors: int = 10,
    n_steps: int = 60,
    grid: Array | int = 400,
    width: float | None = None,
    rng: np.random.Generator | None = None,
) -> SpectralDensity:
    """Approximate the eigenvalue density of H from ``v -> H v`` (Ubaru, Chen & Saad 2017).

    For each of ``n_vectors`` Rademacher probes, ``n_steps`` Lanczos steps (full
    reorthogonalisation, memory O(n_steps P)) give a Gauss quadrature rule whose moments match
    ``v^T H^j v`` for j < 2 n_steps; averaging over probes is unbiased for ``tr(H^j) / P``.  The
    rule is smoothed with Gaussians of std ``width`` (default 1% of the spectral range).  ``grid``
    is an array of evaluation points or a number of points spanning the spectrum.  Approximate.

    >>> sd = spectral_density(lambda v: 2.0 * v, 50, n_vectors=2, n_steps=5)
    >>> np.allclose(sd.nodes[sd.weights > 0], 2.0)
    True
    """
    rng = np.random.default_rng(0) if rng is None else rng
    n_params, n_vectors = int(n_params), int(n_vectors)
    m = max(1, min(int(n_steps), n_params))
    nodes = np.zeros((n_vectors, m))
    weights = np.zeros((n_vectors, m))
    for i in range(n_vectors):
        v = rng.choice([-1.0, 1.0], size=n_params) / np.sqrt(n_params)
        V = np.zeros((m, n_params))
        alpha, beta = np.zeros(m), np.zeros(m)
        V[0] = v
        steps = m
        for j in range(m):
            w = np.asarray(hvp(V[j]), dtype=float).reshape(-1)
            alpha[j] = w @ V[j]
            w = w - V[: j + 1].T @ (V[: j + 1] @ w)  # full reorthogonalisation, twice
            w = w - V[: j + 1].T @ (V[: j + 1] @ w)
            if j + 1 == m:
                break
            beta[j] = np.linalg.norm(w)
            if beta[j] <= 1e-10 * max(abs(alpha[: j + 1]).max(), 1e-300):
                steps = j + 1  # invariant subspace found: the rule is exact
                break
            V[j + 1] = w / beta[j]
        theta, S = scipy.linalg.eigh_tridiagonal(alpha[:steps], beta[: steps - 1])
        nodes[i, :steps] = theta
        weights[i, :steps] = S[0] ** 2
    weights /= n_vectors
    used = nodes[weights > 0]
    lo, hi = (used.min(), used.max()) if used.size else (0.0, 0.0)
    span = hi - lo if hi > lo else max(abs(hi), 1.0)
    width = 0.01 * span if width is None else float(width)
    if np.ndim(grid) == 0:
        grid = np.linspace(lo - 0.05 * span - 3 * width, hi + 0.05 * span + 3 * width, int(grid))
    grid = np.asarray(grid, dtype=float)
    diff = (grid[:, None] - nodes.reshape(-1)[None, :]) / width
    density = (np.exp(-0.5 * diff**2) @ weights.reshape(-1)) / (width * np.sqrt(2 * np.pi))
    return SpectralDensity(grid, density, nodes, weights, width)
