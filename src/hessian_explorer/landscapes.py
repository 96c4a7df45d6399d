"""Loss landscapes of the models over two chosen parameters, the others held fixed, and 1-D
profiles along a direction, each next to its second-order (Hessian) model.

Two parameters ``i, j`` span a plane through ``centre`` (usually the fitted minimiser):
``theta = centre + a e_i + b e_j``. Grids are indexed ``[row, column] = [b index, a index]``
(plotly's convention: rows follow the vertical axis). Least squares is an exact quadratic, so
its second-order model equals the loss everywhere; softmax regression's does not. Losses follow
the models' SUM convention; the softmax slice includes the optional penalty ``(l2/2) |w|^2``.

Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from hessian_explorer.directions import angle_direction
from hessian_explorer.models import LeastSquares, SoftmaxRegression

__all__ = ["LossSlice", "least_squares_slice", "softmax_slice", "Profile", "profile_along"]

Array = np.ndarray


@dataclass(frozen=True, eq=False)
class LossSlice:
    """The loss on a ``G x G`` grid over parameters ``i`` (horizontal, values ``a``) and ``j``
    (vertical, values ``b``), others at ``centre``; its gradient's (i, j) components
    ``grad_a, grad_b`` on a coarser ``g x g`` grid ``(arrow_a, arrow_b)``; and the second-order
    model ``quadratic = L(c) + g_c . d + d^T H_c d / 2`` (d the displacement in the plane) with
    ``hessian_block = H_c[[i, j]][:, [i, j]]``.
    """

    i: int
    j: int
    centre: Array
    a: Array
    b: Array
    loss: Array
    quadratic: Array
    arrow_a: Array
    arrow_b: Array
    grad_a: Array
    grad_b: Array
    hessian_block: Array
    gradient_at_centre: Array

    @property
    def block_eigenvalues(self) -> Array:
        """Eigenvalues (ascending) of ``hessian_block``: the curvature of the plotted slice at the centre."""
        return np.linalg.eigvalsh(self.hessian_block)


def _axes(centre: Array, i: int, j: int, half_widths: tuple[float, float], n: int) -> tuple[Array, Array]:
    a = centre[i] + np.linspace(-half_widths[0], half_widths[0], n)
    b = centre[j] + np.linspace(-half_widths[1], half_widths[1], n)
    return a, b


def _check_pair(i: int, j: int, p: int) -> None:
    if not (0 <= i < p and 0 <= j < p and i != j):
        raise ValueError(f"choose two different parameters between 0 and {p - 1}, got {i} and {j}")


def _quadratic(A: Array, B: Array, centre: Array, i: int, j: int, value: float, g: Array, H2: Array) -> Array:
    da, db = A - centre[i], B - centre[j]
    return value + g[i] * da + g[j] * db + 0.5 * (H2[0, 0] * da**2 + 2 * H2[0, 1] * da * db + H2[1, 1] * db**2)


def least_squares_slice(
    problem: LeastSquares,
    centre: Array,
    i: int,
    j: int,
    half_widths: tuple[float, float] | None = None,
    density: int = 61,
    arrows: int = 13,
) -> LossSlice:
    """Exact loss ``sum (r_c + a' Phi_i + b' Phi_j)^2 + ridge |theta|^2`` over the (i, j) plane.

    ``r_c = Phi centre - y`` and ``a' = a - centre_i``, ``b' = b - centre_j``; vectorised over
    the grid. Default half widths: ``sqrt(2 dL / H_ii)`` along each axis, where ``dL`` is the
    total sum of squares ``sum (y - mean y)^2`` (at least 1e-9), so along each axis the loss rises
    by dL at the edge.

    >>> ls = LeastSquares(np.eye(2), [1.0, 2.0])
    >>> s = least_squares_slice(ls, np.array([1.0, 2.0]), 0, 1, (1.0, 1.0), density=3, arrows=2)
    >>> s.loss.tolist()
    [[2.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 2.0]]
    """
    centre = np.asarray(centre, dtype=float).reshape(-1)
    P = problem.n_params
    _check_pair(i, j, P)
    H = problem.hessian()
    if half_widths is None:
        tss = max(float(np.sum((problem.y - problem.y.mean()) ** 2)) if problem.y.size else 0.0, 1e-9)
        half_widths = tuple(float(np.sqrt(2 * tss / max(H[k, k], 1e-300))) for k in (i, j))
    r = problem.residuals(centre)
    w, ridge = problem.weight, problem.ridge
    ci, cj = problem.Phi[:, i], problem.Phi[:, j]

    def loss_on(A: Array, B: Array) -> Array:
        da, db = (A - centre[i])[..., None], (B - centre[j])[..., None]
        res = r + da * ci + db * cj
        rest = float(centre @ centre - centre[i] ** 2 - centre[j] ** 2)
        return w * np.sum(res**2, axis=-1) + ridge * (A**2 + B**2 + rest)

    def grad_on(A: Array, B: Array) -> tuple[Array, Array]:
        da, db = (A - centre[i])[..., None], (B - centre[j])[..., None]
        res = r + da * ci + db * cj
        return 2 * w * res @ ci + 2 * ridge * A, 2 * w * res @ cj + 2 * ridge * B

    a, b = _axes(centre, i, j, half_widths, int(density))
    A, B = np.meshgrid(a, b)
    qa, qb = _axes(centre, i, j, half_widths, int(arrows))
    QA, QB = np.meshgrid(qa, qb)
    ga, gb = grad_on(QA, QB)
    g = problem.gradient(centre)
    H2 = H[np.ix_([i, j], [i, j])]
    return LossSlice(i, j, centre, a, b, loss_on(A, B), _quadratic(A, B, centre, i, j, problem.loss(centre), g, H2),
                     qa, qb, ga, gb, H2, g)


def softmax_slice(
    model: SoftmaxRegression,
    centre: Array,
    i: int,
    j: int,
    l2: float = 0.0,
    half_widths: tuple[float, float] | None = None,
    density: int = 61,
    arrows: int = 13,
) -> LossSlice:
    """``-sum log p(y_n | x_n, w) + (l2/2)|w|^2`` over the (i, j) plane of class-major weights.

    Moving ``w_i`` (class ``i // D``, feature ``i % D``) by ``a'`` adds ``a' x_n[i % D]`` to that
    class's logit, so each grid row costs one (G, N, K) log-sum-exp; memory O(G N K). Default
    half width: ``max(2.5, 1.25 max(|centre_i|, |centre_j|))`` on both axes, so w = 0 is in view.

    >>> m = SoftmaxRegression(np.array([[1.0, 0.0], [0.0, 1.0]]), [0, 1], reference_class=True)
    >>> s = softmax_slice(m, np.zeros(2), 0, 1, half_widths=(1.0, 1.0), density=3, arrows=2)
    >>> bool(np.isclose(s.loss[1, 1], 2 * np.log(2)))
    True
    """
    centre = np.asarray(centre, dtype=float).reshape(-1)
    P, D, F = model.n_params, model.n_features, model.n_free_classes
    _check_pair(i, j, P)
    if half_widths is None:
        h = max(2.5, 1.25 * max(abs(centre[i]), abs(centre[j])))
        half_widths = (h, h)
    X, Y = model.X, model.Y
    Z0 = X @ centre.reshape(F, D).T  # (N, F) logits of the free classes
    if model.reference_class:
        Z0 = np.hstack([Z0, np.zeros((X.shape[0], 1))])
    ki, di, kj, dj = i // D, i % D, j // D, j % D
    rest = float(centre @ centre - centre[i] ** 2 - centre[j] ** 2)

    def row(a: Array, b_val: float) -> tuple[Array, Array, Array]:
        Z = np.broadcast_to(Z0, (a.size,) + Z0.shape).copy()
        Z[:, :, ki] += (a - centre[i])[:, None] * X[None, :, di]
        Z[:, :, kj] += (b_val - centre[j]) * X[None, :, dj]
        zmax = Z.max(axis=2, keepdims=True)
        logp = Z - zmax - np.log(np.exp(Z - zmax).sum(axis=2, keepdims=True))
        loss = -np.einsum("gnk,nk->g", logp, Y) + 0.5 * l2 * (a**2 + b_val**2 + rest)
        R = np.exp(logp) - Y[None]
        ga = R[:, :, ki] @ X[:, di] + l2 * a
        gb = R[:, :, kj] @ X[:, dj] + l2 * b_val
        return loss, ga, gb

    a, b = _axes(centre, i, j, half_widths, int(density))
    loss = np.vstack([row(a, bv)[0] for bv in b])
    qa, qb = _axes(centre, i, j, half_widths, int(arrows))
    grads = [row(qa, bv)[1:] for bv in qb]
    ga = np.vstack([g[0] for g in grads])
    gb = np.vstack([g[1] for g in grads])
    g = model.gradient(centre) + l2 * centre
    H2 = model.hessian(centre)[np.ix_([i, j], [i, j])] + l2 * np.eye(2)
    value = model.loss(centre) + 0.5 * l2 * float(centre @ centre)
    A, B = np.meshgrid(a, b)
    return LossSlice(i, j, centre, a, b, loss, _quadratic(A, B, centre, i, j, value, g, H2), qa, qb, ga, gb, H2, g)


@dataclass(frozen=True, eq=False)
class Profile:
    """``values = L(centre + t v)`` for unit ``direction`` v, and the second-order model
    ``quadratic = L(centre) + t slope + t^2 curvature / 2`` with ``slope = g.v`` and
    ``curvature = v^T H v`` (v normalised)."""

    t: Array
    values: Array
    quadratic: Array
    direction: Array
    slope: float
    curvature: float


def profile_along(
    loss: Callable[[Array], float],
    gradient: Array,
    hessian: Array,
    centre: Array,
    i: int,
    j: int,
    angle_deg: float,
    half_width: float,
    n: int = 121,
) -> Profile:
    """The loss along ``v = cos(angle) e_i + sin(angle) e_j`` through ``centre``, and its model.

    ``loss`` is the model's own loss function; ``gradient`` (P,) and ``hessian`` (P, P) are its
    derivatives at ``centre``. The curvature is ``v^T H v`` (v is a unit vector).

    >>> H = np.array([[2.0, 0.0], [0.0, 8.0]])
    >>> prof = profile_along(lambda w: 0.5 * w @ H @ w, np.zeros(2), H, np.zeros(2), 0, 1, 90.0, 1.0, n=3)
    >>> prof.curvature, prof.values.tolist()
    (8.0, [4.0, 0.0, 4.0])
    """
    centre = np.asarray(centre, dtype=float).reshape(-1)
    v = angle_direction(angle_deg, centre.size, i, j)
    t = np.linspace(-half_width, half_width, int(n))
    values = np.array([loss(centre + tk * v) for tk in t])
    slope = float(np.asarray(gradient) @ v)
    curvature = float(v @ np.asarray(hessian) @ v)
    return Profile(t, values, loss(centre) + slope * t + 0.5 * curvature * t**2, v, slope, curvature)
