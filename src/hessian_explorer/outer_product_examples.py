"""Small worked examples for the "outer products done right" page, built on :mod:`outer_products`.

- :func:`kunstner_figure1`: everything Kunstner et al.'s Figure 1 draws, in one bundle, plus
  :func:`update_angles`, how far each update turns away from the straight line to the minimiser
  (natural gradient: 0 degrees everywhere).
- :func:`blob_classification`: a tiny, well-specified softmax problem (three Gaussian classes with
  one shared covariance, whose class posterior is exactly softmax-linear), fitted.
- :func:`fisher_sandbox`: Monte-Carlo averages of ``sum_n s_n s_n^T`` with labels from the model
  (converge to the Hessian) and with noisy labels (converge to something else), with the exact
  ``1/sqrt(n)`` noise level (:func:`fisher_noise_level`) and the exact limit.
- :func:`gauss_newton_demo`: ``y ~ exp(a x) + b`` data, Gauss-Newton and Hessian at a chosen theta.

Pure numpy.  Conventions are those of :mod:`hessian_explorer.models` (SUM losses, class-major
softmax parameters) and :mod:`hessian_explorer.outer_products` (least squares ``sum r_n^2``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hessian_explorer.models import SoftmaxRegression
from hessian_explorer.outer_products import (
    EFDecomposition,
    GaussNewtonComparison,
    KunstnerProblem,
    KunstnerTrajectories,
    KunstnerVectorFields,
    exponential_model,
    gauss_newton_vs_hessian,
    kunstner_dataset,
    kunstner_trajectories,
    kunstner_vector_fields,
    monte_carlo_fisher,
)

__all__ = [
    "update_angles",
    "KunstnerFigure1",
    "kunstner_figure1",
    "BlobProblem",
    "blob_classification",
    "mean_gradient_summary",
    "noisy_label_probs",
    "fisher_noise_level",
    "FisherSandbox",
    "fisher_sandbox",
    "EXPONENTIAL_TRUTH",
    "exponential_data",
    "GaussNewtonDemo",
    "gauss_newton_demo",
]

Array = np.ndarray


# --------------------------------------------------------------------------------------------
# Kunstner et al.: which way do the updates point?
# --------------------------------------------------------------------------------------------


def update_angles(fields: KunstnerVectorFields) -> Array:
    """Angle in degrees between each update and the straight line to the minimiser, (3, G, G).

    Order (gd, ngd, ef) and grid indexing ``[i, j]`` at ``(b[j], slope[i])`` as in
    :class:`~hessian_explorer.outer_products.KunstnerVectorFields`.  0 means "heads straight for
    the minimiser", 90 "sideways"; computed as ``atan2(|d x u|, d . u)``, so a zero vector (at the
    minimiser itself) gives 0 instead of an undefined value.

    >>> from hessian_explorer.outer_products import kunstner_dataset, kunstner_vector_fields
    >>> angles = update_angles(kunstner_vector_fields(kunstner_dataset()))
    >>> angles.shape, bool(angles[1].max() < 1e-4)
    ((3, 15, 15), True)
    """
    B, S = np.meshgrid(fields.b, fields.slope)
    to_min = fields.minimiser - np.stack([B, S], axis=-1)  # (G, G, 2)
    d = np.stack([fields.gd, fields.ngd, fields.ef])  # (3, G, G, 2)
    cross = d[..., 0] * to_min[..., 1] - d[..., 1] * to_min[..., 0]
    dot = np.sum(d * to_min, axis=-1)
    return np.degrees(np.arctan2(np.abs(cross), dot))


@dataclass(frozen=True, eq=False)
class KunstnerFigure1:
    """What Figure 1 of Kunstner, Balles & Hennig (2019) draws, for one setting of the data.

    ``fields`` (15 x 15 on [-1, 5]^2) and ``trajectories`` as in :mod:`outer_products`;
    ``angles`` (3, G, G) from :func:`update_angles` and ``mean_angles`` (3,) their grid means
    (order gd, ngd, ef); ``contour_loss`` (len(contour_slope), len(contour_b)) is the loss on a
    finer grid, entry [i, j] at ``(contour_b[j], contour_slope[i])``; ``curve_x``, ``curve_y``
    trace the noise-free data-generating curve ``2 + 2 x + misspecification x^2``.
    """

    problem: KunstnerProblem
    misspecification: float
    fields: KunstnerVectorFields
    trajectories: KunstnerTrajectories
    angles: Array
    mean_angles: Array
    contour_b: Array
    contour_slope: Array
    contour_loss: Array
    curve_x: Array
    curve_y: Array


def kunstner_figure1(n: int = 1000, noise: float = 1.0, misspecification: float = 0.0,
                     contour_density: int = 46) -> KunstnerFigure1:
    """Kunstner et al.'s Figure 1 for data ``y = 2 + 2 x + noise eps + misspecification x^2``.

    Calls :func:`~hessian_explorer.outer_products.kunstner_dataset` (legacy seed 0),
    :func:`~hessian_explorer.outer_products.kunstner_vector_fields` (15 x 15 on [-1, 5]^2) and
    :func:`~hessian_explorer.outer_products.kunstner_trajectories` (Euler steps of 0.001 from the
    paper's four starts; a few tenths of a second).
    """
    problem = kunstner_dataset(n, noise, misspecification)
    fields = kunstner_vector_fields(problem)
    angles = update_angles(fields)
    grid = np.linspace(fields.b[0], fields.b[-1], int(contour_density))
    curve_x = np.linspace(0.0, float(problem.x.max()), 200)
    return KunstnerFigure1(
        problem=problem,
        misspecification=float(misspecification),
        fields=fields,
        trajectories=kunstner_trajectories(problem),
        angles=angles,
        mean_angles=angles.mean(axis=(1, 2)),
        contour_b=grid,
        contour_slope=grid,
        contour_loss=problem.loss_grid(grid, grid),
        curve_x=curve_x,
        curve_y=2.0 + 2.0 * curve_x + misspecification * curve_x**2,
    )


# --------------------------------------------------------------------------------------------
# A tiny, well-specified softmax problem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class BlobProblem:
    """A fitted softmax model: ``model`` (reference class, P = 2 x 3), minimiser ``w_star`` (P,).

    ``points`` (N, 2) are the raw inputs (the model's X is ``[1, x1, x2]``); ``param_labels``
    name the class-major parameters ``w = [w^(1); w^(2)]`` (class 3 is the reference, w^(3) = 0).
    """

    model: SoftmaxRegression
    w_star: Array
    points: Array
    param_labels: tuple[str, ...]

    def point(self, t: float) -> Array:
        """``(1 - t) w_star``: t = 0 is the minimiser, t = 1 is w = 0 (all classes equally likely)."""
        return (1.0 - float(t)) * self.w_star


def blob_classification(n_per_class: int = 30, seed: int = 0) -> BlobProblem:
    """Three overlapping Gaussian classes in 2-D, fitted by softmax regression (SUM NLL).

    Class means (0, 1.2), (-1, -0.6), (1, -0.6) with identity covariance, ``n_per_class`` points
    each from ``np.random.default_rng(seed)``.  Gaussian classes with one shared covariance have a
    posterior that is exactly softmax-linear, so the model is well specified; the classes overlap,
    so the minimiser exists.

    >>> blobs = blob_classification()
    >>> blobs.model.n_params, blobs.param_labels[:3]
    (6, ('w₁[1]', 'w₁[x₁]', 'w₁[x₂]'))
    """
    if int(n_per_class) != n_per_class or n_per_class < 2:
        raise ValueError(f"n_per_class must be an integer >= 2, got {n_per_class!r}")
    rng = np.random.default_rng(seed)
    means = np.array([[0.0, 1.2], [-1.0, -0.6], [1.0, -0.6]])
    labels = np.repeat(np.arange(3), int(n_per_class))
    points = means[labels] + rng.standard_normal((labels.size, 2))
    X = np.column_stack([np.ones(labels.size), points])
    model = SoftmaxRegression(X, labels, n_classes=3, reference_class=True)
    w_star = model.fit()
    names = tuple(f"w{k}[{f}]" for k in ("₁", "₂") for f in ("1", "x₁", "x₂"))
    return BlobProblem(model, w_star, points, names)


def mean_gradient_summary(dec: EFDecomposition) -> tuple[float, float]:
    """``(|gbar|, |N gbar gbar^T|_F / |EF|_F)``: how big the mean gradient is, and its share of EF.

    Both are 0 at a stationary point, where the empirical Fisher is pure gradient noise.

    >>> from hessian_explorer.outer_products import ef_decomposition
    >>> mean_gradient_summary(ef_decomposition(np.array([[1.0, 0.0], [-1.0, 0.0]])))
    (0.0, 0.0)
    """
    ef = np.linalg.norm(dec.empirical_fisher)
    share = float(np.linalg.norm(dec.mean_part) / ef) if ef > 0 else 0.0
    return float(np.linalg.norm(dec.mean_gradient)), share


# --------------------------------------------------------------------------------------------
# The Fisher identity by sampling, with its exact noise level
# --------------------------------------------------------------------------------------------


def noisy_label_probs(probs: Array, flip: float) -> Array:
    """Label noise: draw from the model, then move the label to the next class with prob. ``flip``.

    ``q = (1 - flip) p + flip roll(p)``, ``roll(p)[:, k] = p[:, k - 1]``; (N, K) -> (N, K).

    >>> noisy_label_probs(np.array([[0.7, 0.2, 0.1]]), 0.5)
    array([[0.4 , 0.45, 0.15]])
    """
    if not 0.0 <= flip <= 1.0:
        raise ValueError(f"flip must be a probability in [0, 1], got {flip!r}")
    p = np.asarray(probs, dtype=float)
    return (1.0 - flip) * p + flip * np.roll(p, 1, axis=1)


def fisher_noise_level(model: SoftmaxRegression, w: Array, label_probs: Array | None = None) -> float:
    """Exact RMS Frobenius error of ONE Monte-Carlo draw of ``sum_n s_n s_n^T`` around its mean.

    Labels are drawn independently per example from ``label_probs`` (N, K) (default: the model).
    With ``s_n = r_n (x) x_n``, ``r_n = (e_y - p_n)`` over the free classes, the draws are
    independent across n, so ``E|S - E S|_F^2 = sum_n |x_n|^4 (E|r_n|^4 - |E r_n r_n^T|_F^2)``.
    The average of n draws then has RMS error ``sigma / sqrt(n)``.

    >>> m = SoftmaxRegression(np.array([[1.0, 0.0]]), [0], n_classes=2, reference_class=True)
    >>> fisher_noise_level(m, np.zeros(2))  # r = +-1/2, |x| = 1: s s^T is always [[1/4, 0], [0, 0]]
    0.0
    """
    p = model.probabilities(w)
    q = p if label_probs is None else np.asarray(label_probs, dtype=float)
    if q.shape != p.shape:
        raise ValueError(f"label_probs must have shape {p.shape}, got {q.shape}")
    F = model.n_free_classes
    R = (np.eye(model.n_classes)[None, :, :] - p[:, None, :])[:, :, :F]  # (N, K labels, F)
    r2 = np.sum(R**2, axis=-1)  # (N, K)
    C = np.einsum("nk,nkf,nkg->nfg", q, R, R)  # E_q[r r^T] per example
    x2 = np.sum(model.X**2, axis=1)
    var = np.sum(x2**2 * (np.sum(q * r2**2, axis=1) - np.sum(C**2, axis=(1, 2))))
    return float(np.sqrt(max(var, 0.0)))


@dataclass(frozen=True, eq=False)
class FisherSandbox:
    """Relative errors ``|avg_n - H|_F / |H|_F`` after n = 1..S label draws, and their references.

    ``model_error`` (S,): labels from the model (tends to 0 like ``reference``, the exact RMS
    ``sigma / (sqrt(n) |H|_F)``).  ``noisy_error`` (S,): labels with ``flip`` label noise (levels
    off at ``noisy_floor = |E_q[S] - H|_F / |H|_F``).  ``observed_level``: the same for the
    observed labels, whose "average" is the empirical Fisher at every n.  ``hessian`` (P, P);
    ``model_average`` and ``noisy_average`` (P, P) are the averages after all S draws.
    """

    n_samples: Array
    model_error: Array
    noisy_error: Array
    reference: Array
    noisy_floor: float
    observed_level: float
    flip: float
    hessian: Array
    model_average: Array
    noisy_average: Array


def fisher_sandbox(problem: BlobProblem, n_samples: int, seed: int, flip: float) -> FisherSandbox:
    """Sampled labels from the model give ``avg s s^T -> H``; noisy or observed labels do not.

    At ``problem.w_star``: two independent runs of
    :func:`~hessian_explorer.outer_products.monte_carlo_fisher` (streams ``[seed, 0]`` and
    ``[seed, 1]`` of ``np.random.default_rng``), one with model labels and one with
    :func:`noisy_label_probs`.  SUM convention, so H is the Hessian of the summed NLL.

    >>> sb = fisher_sandbox(blob_classification(), 400, 0, 0.5)
    >>> bool(sb.model_error[-1] < 0.1 < sb.noisy_floor)
    True
    """
    model, w = problem.model, problem.w_star
    clean = monte_carlo_fisher(model, w, n_samples, np.random.default_rng([seed, 0]))
    q = noisy_label_probs(model.probabilities(w), flip)
    noisy = monte_carlo_fisher(model, w, n_samples, np.random.default_rng([seed, 1]), label_probs=q)
    H = clean.hessian
    h = np.linalg.norm(H)
    sigma = fisher_noise_level(model, w)
    return FisherSandbox(
        n_samples=clean.n_samples,
        model_error=clean.distance_to_hessian / h,
        noisy_error=noisy.distance_to_hessian / h,
        reference=sigma / (np.sqrt(clean.n_samples) * h),
        noisy_floor=float(np.linalg.norm(noisy.limit - H) / h),
        observed_level=float(np.linalg.norm(model.empirical_fisher(w) - H) / h),
        flip=float(flip),
        hessian=H,
        model_average=clean.running_average[-1],
        noisy_average=noisy.running_average[-1],
    )


# --------------------------------------------------------------------------------------------
# Gauss-Newton versus the Hessian for y ~ exp(a x) + b
# --------------------------------------------------------------------------------------------

#: The curve that generates the data of :func:`exponential_data`: (a, b) = (1, 0.5).
EXPONENTIAL_TRUTH: tuple[float, float] = (1.0, 0.5)


def exponential_data(noise: float, n: int = 20, seed: int = 0) -> tuple[Array, Array]:
    """``x = linspace(0, 1, n)``, ``y = exp(x) + 0.5 + noise * eps`` with eps fixed by ``seed``.

    The same eps for every noise level, so ``noise`` only scales the residuals about the truth.

    >>> x, y = exponential_data(0.0, n=3)
    >>> bool(np.allclose(y, np.exp(x) + 0.5))
    True
    """
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise!r}")
    x = np.linspace(0.0, 1.0, int(n))
    eps = np.random.default_rng(seed).standard_normal(int(n))
    return x, exponential_model(EXPONENTIAL_TRUTH, x) + noise * eps


@dataclass(frozen=True, eq=False)
class GaussNewtonDemo:
    """Data (x, y), the :class:`GaussNewtonComparison` at theta, and eigenvalues (ascending, (2,)).

    ``gauss_newton_eigenvalues`` are never negative; ``hessian_eigenvalues`` can be.
    """

    x: Array
    y: Array
    comparison: GaussNewtonComparison
    hessian_eigenvalues: Array
    gauss_newton_eigenvalues: Array

    @property
    def residual_norm(self) -> float:
        """``|r|_2`` at theta."""
        return float(np.linalg.norm(self.comparison.residuals))


def gauss_newton_demo(noise: float, theta: tuple[float, float] = EXPONENTIAL_TRUTH,
                      n: int = 20, seed: int = 0) -> GaussNewtonDemo:
    """H = 2 J^T J + 2 sum_n r_n hess f_n at theta for :func:`exponential_data`; equal iff r = 0.

    >>> demo = gauss_newton_demo(0.0)
    >>> bool(np.allclose(demo.comparison.hessian, demo.comparison.gauss_newton))
    True
    """
    x, y = exponential_data(noise, n, seed)
    c = gauss_newton_vs_hessian(np.asarray(theta, dtype=float), x, y)
    return GaussNewtonDemo(x, y, c, np.linalg.eigvalsh(c.hessian), np.linalg.eigvalsh(c.gauss_newton))
