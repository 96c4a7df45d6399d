"""What a gradient and a Hessian say about a point: definiteness and the second-derivative test.

Pure numpy on arrays, so functions and models share it. Tolerances, fixed here:
- an eigenvalue counts as zero when ``|λ| <= max(EIG_RTOL * max|λ|, EIG_ATOL)``;
- a point is critical when ``|∇f| <= gradient_tol`` (default ``1e-8``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum

import numpy as np

__all__ = [
    "Definiteness",
    "Verdict",
    "PointAnalysis",
    "analyze_point",
    "classify_definiteness",
    "Curvature",
    "classify_curvature",
    "EIG_RTOL",
    "EIG_ATOL",
]

EIG_RTOL = 1e-9
EIG_ATOL = 1e-12


class Definiteness(StrEnum):
    POSITIVE_DEFINITE = "positive definite"
    NEGATIVE_DEFINITE = "negative definite"
    INDEFINITE = "indefinite"
    POSITIVE_SEMIDEFINITE = "positive semidefinite"
    NEGATIVE_SEMIDEFINITE = "negative semidefinite"
    ZERO = "zero"
    UNDEFINED = "undefined"


class Verdict(StrEnum):
    MINIMUM = "local minimum"
    MAXIMUM = "local maximum"
    SADDLE = "saddle point"
    INCONCLUSIVE = "inconclusive (degenerate critical point)"
    NOT_CRITICAL = "not a critical point"
    UNDEFINED = "undefined here"


class Curvature(IntEnum):
    """Codes for a map of curvature type (used by :func:`classify_curvature`)."""

    UNDEFINED = 0
    CONVEX = 1  # positive definite
    CONCAVE = 2  # negative definite
    SADDLE = 3  # indefinite
    DEGENERATE = 4  # semidefinite or zero


def _zero_tol(eigenvalues: np.ndarray) -> np.ndarray:
    scale = np.max(np.abs(eigenvalues), axis=-1, keepdims=True)
    return np.maximum(EIG_RTOL * scale, EIG_ATOL)


def classify_definiteness(eigenvalues) -> Definiteness:
    """Definiteness from the eigenvalues of one symmetric matrix.

    >>> classify_definiteness([-2.0, 3.0])
    <Definiteness.INDEFINITE: 'indefinite'>
    """
    lam = np.asarray(eigenvalues, dtype=float)
    if not np.all(np.isfinite(lam)):
        return Definiteness.UNDEFINED
    tol = _zero_tol(lam)
    pos, neg = np.any(lam > tol), np.any(lam < -tol)
    zero = np.any(np.abs(lam) <= tol)
    if pos and neg:
        return Definiteness.INDEFINITE
    if pos:
        return Definiteness.POSITIVE_SEMIDEFINITE if zero else Definiteness.POSITIVE_DEFINITE
    if neg:
        return Definiteness.NEGATIVE_SEMIDEFINITE if zero else Definiteness.NEGATIVE_DEFINITE
    return Definiteness.ZERO


def classify_curvature(hessians: np.ndarray) -> np.ndarray:
    """Curvature type (:class:`Curvature` codes) of a batch of symmetric matrices ``(..., n, n)``.

    Returns an integer array of shape ``(...)``; non-finite matrices get ``UNDEFINED``.

    >>> classify_curvature(np.array([[[2.0, 0], [0, 1]], [[1.0, 0], [0, -1]]])).tolist()
    [1, 3]
    """
    h = np.asarray(hessians, dtype=float)
    finite = np.isfinite(h).all(axis=(-2, -1))
    lam = np.linalg.eigvalsh(np.where(finite[..., None, None], h, 0.0))
    tol = _zero_tol(lam)
    pos = (lam > tol).any(axis=-1)
    neg = (lam < -tol).any(axis=-1)
    zero = (np.abs(lam) <= tol).any(axis=-1)
    out = np.full(h.shape[:-2], Curvature.DEGENERATE, dtype=np.int8)
    out[pos & ~neg & ~zero] = Curvature.CONVEX
    out[neg & ~pos & ~zero] = Curvature.CONCAVE
    out[pos & neg] = Curvature.SADDLE
    out[~finite] = Curvature.UNDEFINED
    return out


@dataclass(frozen=True)
class PointAnalysis:
    """Everything the gradient and Hessian say about one point.

    ``eigenvalues`` are ascending and ``eigenvectors[:, k]`` belongs to ``eigenvalues[k]``
    (unit length, sign fixed so the largest component is positive).
    """

    point: np.ndarray
    value: float
    gradient: np.ndarray
    hessian: np.ndarray
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    determinant: float
    definiteness: Definiteness
    is_critical: bool
    verdict: Verdict

    @property
    def gradient_norm(self) -> float:
        return float(np.linalg.norm(self.gradient))

    @property
    def condition_number(self) -> float:
        """``max|λ| / min|λ|`` (``inf`` for a singular Hessian)."""
        a = np.abs(self.eigenvalues)
        return float(a.max() / a.min()) if a.min() > 0 else float("inf")


def analyze_point(point, value: float, gradient, hessian, gradient_tol: float = 1e-8) -> PointAnalysis:
    """Eigen-analysis, definiteness and the second-derivative-test verdict at one point.

    ``gradient`` has shape ``(n,)``, ``hessian`` ``(n, n)`` (symmetric). The verdict is
    ``NOT_CRITICAL`` unless ``|gradient| <= gradient_tol``; at a critical point a definite Hessian
    gives a minimum or maximum, an indefinite one a saddle, a semidefinite one is inconclusive.

    >>> a = analyze_point([0, 0], 0.0, [0.0, 0.0], [[2.0, 0.0], [0.0, -2.0]])
    >>> a.verdict, a.determinant
    (<Verdict.SADDLE: 'saddle point'>, -4.0)
    """
    g = np.asarray(gradient, dtype=float)
    h = np.asarray(hessian, dtype=float)
    point = np.asarray(point, dtype=float)
    if not (np.all(np.isfinite(g)) and np.all(np.isfinite(h)) and np.isfinite(value)):
        nan_vec = np.full(len(g), np.nan)
        return PointAnalysis(point, float(value), g, h, nan_vec, np.full_like(h, np.nan), float("nan"),
                             Definiteness.UNDEFINED, False, Verdict.UNDEFINED)
    eigenvalues, eigenvectors = np.linalg.eigh(h)
    signs = np.sign(eigenvectors[np.argmax(np.abs(eigenvectors), axis=0), np.arange(len(g))])
    eigenvectors = eigenvectors * np.where(signs == 0, 1.0, signs)
    definiteness = classify_definiteness(eigenvalues)
    is_critical = bool(np.linalg.norm(g) <= gradient_tol)
    if not is_critical:
        verdict = Verdict.NOT_CRITICAL
    else:
        verdict = {
            Definiteness.POSITIVE_DEFINITE: Verdict.MINIMUM,
            Definiteness.NEGATIVE_DEFINITE: Verdict.MAXIMUM,
            Definiteness.INDEFINITE: Verdict.SADDLE,
        }.get(definiteness, Verdict.INCONCLUSIVE)
    return PointAnalysis(
        point=point,
        value=float(value),
        gradient=g,
        hessian=h,
        eigenvalues=eigenvalues,
        eigenvectors=eigenvectors,
        determinant=float(np.linalg.det(h)),
        definiteness=definiteness,
        is_critical=is_critical,
        verdict=verdict,
    )
