"""Softmax (multinomial logistic) regression analysed for teaching (seed 002).

Builds on :class:`hessian_explorer.models.SoftmaxRegression`: loss ``L(w) = -sum_n log p(y_n |
x_n, w)`` (SUM convention), class-major parameters ``w = [w^(1); ...; w^(K)]`` (each in R^D), and
the Hessian ``H = sum_n (Lambda_p - p p^T) (x) x_n x_n^T``. This module adds: a fit with an
optional L2 penalty ``(l2/2)|w|^2`` (:func:`fit_softmax`: real data sets are usually linearly
separable, and then no finite minimiser exists without one), the fit's Hessian and spectrum
(:func:`analyse_softmax`), the null space of the over-parametrised form
(:func:`null_space_check`), Böhning's bound (:func:`bohning_check`), and the binary
one-feature model whose two weights can be drawn as a landscape (:func:`one_feature_binary`).

Every matrix here is the Hessian of the negative log-likelihood L; the penalty only decides
where it is evaluated (the penalised objective's Hessian is ``H + l2 I``).

Pure numpy/scipy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from hessian_explorer.datasets import ClassificationData
from hessian_explorer.models import (
    EigenPairs,
    SoftmaxRegression,
    SpectralDensity,
    spectral_density,
    top_eigenpairs,
)
from hessian_explorer.notation import omega_label

__all__ = [
    "DENSE_LIMIT",
    "parameter_labels",
    "fit_softmax",
    "SoftmaxFit",
    "analyse_softmax",
    "NullSpaceCheck",
    "null_space_check",
    "BohningCheck",
    "bohning_check",
    "one_feature_binary",
]

Array = np.ndarray

#: Up to this many parameters every eigenvalue is computed densely; above it the page uses
#: Lanczos (top eigenpairs) and stochastic Lanczos quadrature (density), as for big models.
DENSE_LIMIT = 120
#: Without a penalty, fitted weights this large (Euclidean norm) (standardised inputs) means the classes are
#: (almost) separable: probabilities near 0 or 1 and a loss still falling as |w| grows.
DIVERGENCE_WEIGHT = 25.0


def parameter_labels(n_free_classes: int, n_features: int) -> tuple[str, ...]:
    """``('ω⁽¹⁾₁', ..., 'ω⁽¹⁾_D', 'ω⁽²⁾₁', ...)`` in class-major order (classes and features from 1)."""
    return tuple(omega_label(k + 1, d + 1) for k in range(n_free_classes) for d in range(n_features))


def fit_softmax(model: SoftmaxRegression, l2: float = 0.0, max_iter: int = 100, tol: float = 1e-8) -> Array:
    """Minimise ``L(w) + (l2/2)|w|^2``; returns w (P,).

    ``l2 == 0`` is the core's :meth:`SoftmaxRegression.fit` (Newton; L-BFGS above 200
    parameters, as separable data would need many Newton steps). ``l2 > 0``: Newton steps on
    ``H + l2 I`` (positive definite) with Armijo backtracking, until ``max |gradient| / N <= tol``.

    >>> m = SoftmaxRegression(np.array([[1.0], [-1.0]]), [0, 1], reference_class=True)
    >>> w = fit_softmax(m, l2=1.0)   # separable: only the penalty keeps w finite
    >>> bool(abs(m.gradient(w)[0] + w[0]) < 1e-8)
    True
    """
    if not l2 >= 0:
        raise ValueError(f"l2 must be non-negative, got {l2!r}")
    if l2 == 0:
        method = "newton" if model.n_params <= 200 else "lbfgs"
        return model.fit(max_iter=max_iter if method == "newton" else 4 * max_iter, tol=tol, method=method)
    w = np.zeros(model.n_params)
    scale = max(model.n_examples, 1)

    def objective(v: Array) -> float:
        return model.loss(v) + 0.5 * l2 * float(v @ v)

    for _ in range(max_iter):
        g = model.gradient(w) + l2 * w
        if np.max(np.abs(g)) / scale <= tol:
            break
        H = model.hessian(w) + l2 * np.eye(model.n_params)
        d = -scipy.linalg.cho_solve(scipy.linalg.cho_factor(H), g)
        f0, slope, t = objective(w), float(g @ d), 1.0
        while t > 1e-12 and objective(w + t * d) > f0 + 1e-4 * t * slope:
            t *= 0.5
        w = w + t * d
    return w


def _zero_tol(top: float, p: int) -> float:
    """Eigenvalues below this count as zero: ``30 sqrt(P) eps |lambda_max|`` (rounding level)."""
    return 30.0 * np.sqrt(max(p, 1)) * np.finfo(float).eps * max(abs(top), np.finfo(float).tiny)


@dataclass(frozen=True, eq=False)
class SoftmaxFit:
    """A fitted model and its NLL Hessian at the fit.

    ``hessian`` (P, P) is ``∇²L(w)``; ``smallest`` holds its ``D + 2`` smallest eigenvalues
    (dense, ascending) and ``eigenvalues`` all of them when ``P <= DENSE_LIMIT`` (else None).
    ``top`` are the 20 largest eigenpairs by Lanczos on Hessian-vector products (H never
    used), and ``density`` the stochastic-Lanczos spectral density (None when P is small).
    ``gradient_max`` is ``max |∇(L + l2/2 |w|^2)| / N`` at w (about 0 at a minimum).
    """

    model: SoftmaxRegression
    w: Array
    l2: float
    loss: float
    objective: float
    gradient_max: float
    accuracy: float
    hessian: Array
    smallest: Array
    eigenvalues: Array | None
    top: EigenPairs
    density: SpectralDensity | None

    @property
    def n_params(self) -> int:
        return self.model.n_params

    @property
    def labels(self) -> tuple[str, ...]:
        return parameter_labels(self.model.n_free_classes, self.model.n_features)

    @property
    def largest_eigenvalue(self) -> float:
        return float(self.top.values[0])

    @property
    def min_eigenvalue(self) -> float:
        return float(self.smallest[0])

    @property
    def zero_tol(self) -> float:
        return _zero_tol(self.largest_eigenvalue, self.n_params)

    @property
    def n_zero(self) -> int:
        """Eigenvalues of H that are zero up to rounding, among the D + 2 smallest."""
        return int(np.sum(np.abs(self.smallest) <= self.zero_tol))

    @property
    def positive_definite(self) -> bool:
        return bool(self.min_eigenvalue > self.zero_tol)

    @property
    def diverging(self) -> bool:
        """No penalty, and every example classified correctly or huge weights: (quasi-)separable
        classes, for which no finite minimiser exists."""
        return self.l2 == 0 and (self.accuracy == 1.0 or float(np.linalg.norm(self.w)) > DIVERGENCE_WEIGHT)


def analyse_softmax(
    X: Array, labels: Array, *, reference_class: bool = False, l2: float = 0.0, n_classes: int | None = None
) -> SoftmaxFit:
    """Fit (:func:`fit_softmax`) and analyse the NLL Hessian at the fit.

    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    >>> fit = analyse_softmax(X, [0, 1, 0, 1], l2=0.1)
    >>> fit.n_params, fit.n_zero    # K = 2 classes of D = 2 weights; null space of dimension D
    (4, 2)
    """
    model = SoftmaxRegression(X, labels, n_classes=n_classes, reference_class=reference_class)
    w = fit_softmax(model, l2)
    P, D = model.n_params, model.n_features
    H = model.hessian(w)
    eigenvalues = np.linalg.eigvalsh(H) if P <= DENSE_LIMIT else None
    if eigenvalues is not None:
        smallest = eigenvalues[: min(P, D + 2)]
        order = np.argsort(eigenvalues)[::-1][: min(P, 20)]
        _, vecs = np.linalg.eigh(H)
        top = EigenPairs(eigenvalues[order], vecs[:, order])
        density = None
    else:
        smallest = scipy.linalg.eigvalsh(H, subset_by_index=[0, min(P, D + 2) - 1])
        op = model.hessian_operator(w)
        top = top_eigenpairs(op.matvec, P, k=20)
        density = spectral_density(op.matvec, P, n_vectors=6, n_steps=50)
    g = model.gradient(w) + l2 * w
    return SoftmaxFit(
        model=model, w=w, l2=float(l2), loss=model.loss(w), objective=model.loss(w) + 0.5 * l2 * float(w @ w),
        gradient_max=float(np.max(np.abs(g))) / max(model.n_examples, 1),
        accuracy=float(np.mean(model.probabilities(w).argmax(axis=1) == model.labels)),
        hessian=H, smallest=smallest, eigenvalues=eigenvalues, top=top, density=density,
    )


@dataclass(frozen=True, eq=False)
class NullSpaceCheck:
    """Adding ``v = [u; ...; u]`` (the same u in R^D to every class) to the fitted w.

    Over-parametrised form: ``loss_after == loss_before`` and ``H v ≈ 0`` (``relative_hv`` is
    ``|H v| / (λ_max |v|)``), so H is singular with ``n_zero`` zero eigenvalues (D of them).
    Reference-class form: the same shift of its K - 1 free classes changes the loss
    (``ref_loss_before`` vs ``ref_loss_after``), and its H is positive definite
    (``ref_min_eigenvalue > 0``).
    """

    u: Array
    loss_before: float
    loss_after: float
    hv: Array
    relative_hv: float
    n_zero: int
    smallest: Array
    ref_loss_before: float
    ref_loss_after: float
    ref_min_eigenvalue: float
    ref_positive_definite: bool


def null_space_check(over: SoftmaxFit, ref: SoftmaxFit, shift: float = 1.0, seed: int = 0) -> NullSpaceCheck:
    """Shift every class's weights by the same random u (|u| = ``shift``) in both forms.

    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    >>> c = null_space_check(analyse_softmax(X, [0, 1, 0, 1], l2=0.1),
    ...                      analyse_softmax(X, [0, 1, 0, 1], l2=0.1, reference_class=True))
    >>> bool(np.isclose(c.loss_before, c.loss_after)), c.relative_hv < 1e-12, c.ref_positive_definite
    (True, True, True)
    """
    if over.model.reference_class or not ref.model.reference_class:
        raise ValueError("pass the over-parametrised fit first and the reference-class fit second")
    m, D = over.model, over.model.n_features
    u = np.random.default_rng([int(seed), 4]).standard_normal(D)
    u *= float(shift) / np.linalg.norm(u)
    v = np.tile(u, m.n_free_classes)
    hv = m.hvp(over.w, v)
    vr = np.tile(u, ref.model.n_free_classes)
    return NullSpaceCheck(
        u=u, loss_before=over.loss, loss_after=m.loss(over.w + v), hv=hv,
        relative_hv=float(np.linalg.norm(hv) / (over.largest_eigenvalue * np.linalg.norm(v))) if shift else 0.0,
        n_zero=over.n_zero, smallest=over.smallest,
        ref_loss_before=ref.loss, ref_loss_after=ref.model.loss(ref.w + vr),
        ref_min_eigenvalue=ref.min_eigenvalue, ref_positive_definite=ref.positive_definite,
    )


@dataclass(frozen=True, eq=False)
class BohningCheck:
    """Böhning's bound ``B = 1/2 (I - 1 1^T / K) (x) X^T X`` against H at the fit.

    ``min_gap`` is the smallest eigenvalue of ``B - H``: non-negative (up to rounding,
    ``tolerance``) because ``B - H`` is positive semidefinite for every w.
    """

    bound: Array
    gap: Array
    min_gap: float
    tolerance: float

    @property
    def holds(self) -> bool:
        return bool(self.min_gap >= -self.tolerance)


def bohning_check(fit: SoftmaxFit) -> BohningCheck:
    """Compare the core's :meth:`SoftmaxRegression.bohning_bound` with H at the fit.

    >>> X = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    >>> bohning_check(analyse_softmax(X, [0, 1, 0, 1], l2=0.1)).holds
    True
    """
    B = fit.model.bohning_bound()
    gap = B - fit.hessian
    min_gap = float(scipy.linalg.eigvalsh(gap, subset_by_index=[0, 0])[0])
    top = float(np.abs(B).sum(axis=1).max())  # an upper bound on B's largest eigenvalue
    return BohningCheck(B, gap, min_gap, _zero_tol(top, fit.n_params))


def one_feature_binary(data: ClassificationData, feature: int, positive: int) -> tuple[Array, Array]:
    """Inputs ``[x_feature, 1]`` (N, 2) and labels for "class ``positive`` (label 0) or not (1)".

    With ``reference_class=True`` the second label is the reference, so the model is binary
    logistic regression ``p = sigmoid(w x + b)`` with exactly two weights ``(w, b)``.
    """
    if not 0 <= feature < data.n_features or (data.bias and feature == data.n_features - 1):
        raise ValueError(f"feature must be one of the {data.n_features - int(data.bias)} input features")
    if not 0 <= positive < data.n_classes:
        raise ValueError(f"positive must be a class index between 0 and {data.n_classes - 1}")
    X2 = np.column_stack([data.X[:, feature], np.ones(data.n_examples)])
    return X2, (data.labels != positive).astype(int)
