"""Outer products of gradients done right: when ``g g^T`` is curvature and when it is not.

- The Fisher identity: with labels drawn from the MODEL, ``E[s s^T] = E[-hess log p]``
  (:func:`monte_carlo_fisher`); with labels from the data it is a different matrix.
- The empirical Fisher is gradient noise plus the squared mean gradient
  (:func:`ef_decomposition`); at a minimum it is pure noise, not curvature.
- Gauss-Newton is the Hessian minus a residual-weighted term (:func:`gauss_newton_vs_hessian`).
- Kunstner, Balles & Hennig (NeurIPS 2019), "Limitations of the empirical Fisher
  approximation", Figure 1: EF preconditioning distorts a simple linear regression
  (:func:`kunstner_dataset`, :func:`kunstner_vector_fields`, :func:`kunstner_trajectories`).

Pure numpy.  Conventions are stated per function (Kunstner's problem uses the MEAN loss of the
paper's code; the rest uses the SUM convention of :mod:`hessian_explorer.models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hessian_explorer.models import SoftmaxRegression

__all__ = [
    "KunstnerProblem",
    "kunstner_dataset",
    "KunstnerVectorFields",
    "kunstner_update_directions",
    "kunstner_vector_fields",
    "KunstnerTrajectories",
    "kunstner_trajectories",
    "KUNSTNER_STEP_SIZES",
    "KUNSTNER_STARTS",
    "MonteCarloFisher",
    "monte_carlo_fisher",
    "EFDecomposition",
    "ef_decomposition",
    "GaussNewtonComparison",
    "exponential_model",
    "gauss_newton_vs_hessian",
]

Array = np.ndarray

#: Step sizes of the paper's Figure 1 for gradient descent, natural gradient, EF-preconditioned.
KUNSTNER_STEP_SIZES: tuple[float, float, float] = (1.0 / 3.0, 1.0, 3.0)
#: Starting points (intercept b, slope) of the trajectories in Figure 1.
KUNSTNER_STARTS: tuple[tuple[float, float], ...] = ((2.0, 4.5), (1.0, 0.0), (4.5, 3.0), (-0.5, 3.0))
#: Damping added to the preconditioners before solving, as in the authors' code.
_DAMPING = 1e-8


# --------------------------------------------------------------------------------------------
# Kunstner, Balles & Hennig (2019), Figure 1
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class KunstnerProblem:
    """Linear regression ``y ~ N(theta_0 + theta_1 x, 1)`` with a Gaussian prior, MEAN convention:

    ``L(theta) = (1/N) sum_n (phi_n^T theta - y_n)^2 / 2 + |theta|^2 / (2 prior_var N)``,
    ``phi_n = [1, x_n]``, ``theta = (b, slope)``.  For this Gaussian model the Hessian equals the
    Fisher (plus the prior's curvature) at every theta; the empirical Fisher
    ``(1/N) sum_n g_n g_n^T`` (data terms only, as in the authors' code) does not.
    """

    x: Array
    y: Array
    prior_var: float = 0.1
    _moments: tuple[Array, Array, Array] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        x = np.array(self.x, dtype=float).reshape(-1)
        y = np.array(self.y, dtype=float).reshape(-1)
        if x.shape != y.shape:
            raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
        if not self.prior_var > 0:
            raise ValueError(f"prior_var must be positive, got {self.prior_var!r}")
        x.setflags(write=False)
        y.setflags(write=False)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        Phi = self.Phi
        # EF(theta) = sum_kl T4[..kl] t_k t_l - 2 sum_k T3[..k] t_k + T2: exact, O(1) per theta.
        T4 = np.einsum("ni,nj,nk,nl->ijkl", Phi, Phi, Phi, Phi) / x.size
        T3 = np.einsum("n,ni,nj,nk->ijk", y, Phi, Phi, Phi) / x.size
        T2 = np.einsum("n,ni,nj->ij", y * y, Phi, Phi) / x.size
        object.__setattr__(self, "_moments", (T4, T3, T2))

    @property
    def n(self) -> int:
        return self.x.size

    @property
    def Phi(self) -> Array:
        """Design matrix (N, 2) with rows ``[1, x_n]``."""
        return np.column_stack([np.ones_like(self.x), self.x])

    def _theta(self, theta: Array) -> Array:
        theta = np.asarray(theta, dtype=float).reshape(-1)
        if theta.shape != (2,):
            raise ValueError(f"theta must be (intercept, slope), got {theta.size} values")
        return theta

    def loss(self, theta: Array) -> float:
        """The MEAN-convention loss above, a float."""
        theta = self._theta(theta)
        r = self.Phi @ theta - self.y
        return float(np.mean(r**2) / 2 + theta @ theta / (2 * self.prior_var * self.n))

    def loss_grid(self, b: Array, slope: Array) -> Array:
        """Loss on a grid, shape (len(slope), len(b)): entry [i, j] is at ``(b[j], slope[i])``."""
        B, S = np.meshgrid(np.asarray(b, float), np.asarray(slope, float))
        T = np.stack([B, S], axis=-1)
        H = self.Phi.T @ self.Phi / self.n
        c = self.Phi.T @ self.y / self.n
        quad = 0.5 * np.einsum("...i,ij,...j->...", T, H, T) - T @ c + 0.5 * np.mean(self.y**2)
        return quad + np.sum(T**2, axis=-1) / (2 * self.prior_var * self.n)

    def gradient(self, theta: Array) -> Array:
        """``Phi^T (Phi theta - y) / N + theta / (prior_var N)``, shape (2,)."""
        theta = self._theta(theta)
        return self.Phi.T @ (self.Phi @ theta - self.y) / self.n + theta / (self.prior_var * self.n)

    def hessian(self, theta: Array | None = None) -> Array:
        """``Phi^T Phi / N + I / (prior_var N)``, (2, 2); exact and independent of theta."""
        return self.Phi.T @ self.Phi / self.n + np.eye(2) / (self.prior_var * self.n)

    def fisher(self, theta: Array | None = None) -> Array:
        """``(1/N) sum_n E_{y ~ N(phi_n^T theta, 1)}[(y - phi_n^T theta)^2] phi_n phi_n^T`` + prior.

        The expectation is the model's noise variance, 1, so this equals :meth:`hessian`: for a
        Gaussian likelihood the Fisher is the Hessian, whatever theta and the observed y are.
        """
        model_noise_variance = 1.0
        Phi = self.Phi
        return model_noise_variance * (Phi.T @ Phi) / self.n + np.eye(2) / (self.prior_var * self.n)

    def per_example_gradients(self, theta: Array) -> Array:
        """Rows ``g_n = (phi_n^T theta - y_n) phi_n``, (N, 2): gradients of ``r_n^2 / 2``."""
        theta = self._theta(theta)
        return (self.Phi @ theta - self.y)[:, None] * self.Phi

    def empirical_fisher(self, theta: Array) -> Array:
        """``(1/N) sum_n g_n g_n^T`` (prior excluded, as in the paper's code), (2, 2)."""
        G = self.per_example_gradients(theta)
        return G.T @ G / self.n

    def empirical_fisher_batch(self, thetas: Array) -> Array:
        """:meth:`empirical_fisher` at thetas (..., 2) -> (..., 2, 2), O(1) per point (moments)."""
        T4, T3, T2 = self._moments
        t = np.asarray(thetas, dtype=float)
        return (
            np.einsum("ijkl,...k,...l->...ij", T4, t, t)
            - 2 * np.einsum("ijk,...k->...ij", T3, t)
            + T2
        )

    def minimiser(self) -> Array:
        """The unique minimiser (MAP estimate), shape (2,)."""
        return np.linalg.solve(self.hessian(), self.Phi.T @ self.y / self.n)


def kunstner_dataset(
    n: int = 1000,
    noise: float = 1.0,
    misspecification: float = 0.0,
    seed: int = 0,
    prior_var: float = 0.1,
) -> KunstnerProblem:
    """Kunstner et al.'s Fig. 1 data: a correct linear model where EF preconditioning still fails.

    Drawn as in the authors' code, with ``rs = np.random.RandomState(seed)`` (the legacy stream of
    ``np.random.seed``): ``x = rs.lognormal(0, 0.75, n)`` first, then
    ``eps = noise * rs.standard_normal(n)``, and ``y = 2 + 2 x + eps + misspecification * x^2``.
    The model stays linear, so ``misspecification != 0`` (or ``noise != 1``) makes it wrong
    about the data.

    >>> problem = kunstner_dataset()
    >>> problem.x.shape, problem.Phi.shape
    ((1000,), (1000, 2))
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n must be an integer >= 2, got {n!r}")
    if not noise >= 0:
        raise ValueError(f"noise must be non-negative, got {noise!r}")
    rs = np.random.RandomState(seed)
    x = rs.lognormal(0.0, 0.75, int(n))
    eps = noise * rs.standard_normal(int(n))
    y = 2.0 + 2.0 * x + eps + misspecification * x**2
    return KunstnerProblem(x, y, prior_var)


def kunstner_update_directions(problem: KunstnerProblem, thetas: Array) -> Array:
    """Natural gradient points straight at the minimiser; the EF-preconditioned step does not.

    The paper's three update directions at thetas (..., 2) -> (3, ..., 2):
    ``[-(1/3) g, -1 (H + 1e-8 I)^{-1} g, -3 (EF + 1e-8 I)^{-1} g]`` with g the gradient, H the
    Hessian (= Fisher, so the second is the natural gradient) and EF the empirical Fisher; step
    sizes :data:`KUNSTNER_STEP_SIZES` and damping exactly as in the authors' code.
    """
    t = np.asarray(thetas, dtype=float)
    H = problem.hessian()
    c = problem.Phi.T @ problem.y / problem.n
    g = t @ H - c  # H symmetric
    gd_step, ngd_step, ef_step = KUNSTNER_STEP_SIZES
    ngd = np.linalg.solve(H + _DAMPING * np.eye(2), g.reshape(-1, 2).T).T.reshape(g.shape)
    EF = problem.empirical_fisher_batch(t) + _DAMPING * np.eye(2)
    ef = np.linalg.solve(EF, g[..., None])[..., 0]
    return np.stack([-gd_step * g, -ngd_step * ngd, -ef_step * ef])


@dataclass(frozen=True, eq=False)
class KunstnerVectorFields:
    """Fig. 1's vector fields on a G x G grid; arrays indexed [i, j] at ``(b[j], slope[i])``.

    ``gd``, ``ngd``, ``ef`` (G, G, 2) are the step-scaled directions of
    :func:`kunstner_update_directions`, NOT normalised per arrow: the paper's figure draws the
    three raw fields with one fixed quiver scale (matplotlib ``scale=30``), so arrow length
    shows the update size; with the default data the largest arrows are about 4.6 (GD), 4.3
    (NGD) and 2.2 (EF) long.  Divide by the norm for unit arrows.
    """

    b: Array
    slope: Array
    loss: Array
    gd: Array
    ngd: Array
    ef: Array
    minimiser: Array


def kunstner_vector_fields(
    problem: KunstnerProblem,
    grid_size: int = 15,
    limits: tuple[float, float] = (-1.0, 5.0),
) -> KunstnerVectorFields:
    """Fig. 1's fields: only the natural gradient (Hessian = Fisher) adapts to the curvature.

    GD, natural-gradient and EF-preconditioned directions on ``limits`` squared (paper: 15 x 15
    on [-1, 5]^2); see :class:`KunstnerVectorFields` for indexing and scaling.

    >>> fields = kunstner_vector_fields(kunstner_dataset())
    >>> fields.gd.shape, fields.loss.shape
    ((15, 15, 2), (15, 15))
    """
    b = np.linspace(limits[0], limits[1], int(grid_size))
    slope = np.linspace(limits[0], limits[1], int(grid_size))
    B, S = np.meshgrid(b, slope)
    gd, ngd, ef = kunstner_update_directions(problem, np.stack([B, S], axis=-1))
    return KunstnerVectorFields(
        b, slope, problem.loss_grid(b, slope), gd, ngd, ef, problem.minimiser()
    )


@dataclass(frozen=True, eq=False)
class KunstnerTrajectories:
    """Euler trajectories of the three fields; ``paths[m][s]`` (T, 2) for method m, start s.

    Methods are ordered (gd, ngd, ef) as in :data:`KUNSTNER_STEP_SIZES`.  Points are recorded
    every ``record_every`` steps plus the final point; ``n_steps[m, s]`` counts the steps taken
    and ``converged[m, s]`` says whether the speed fell below ``tol`` before ``max_steps``.
    """

    starts: Array
    paths: tuple[tuple[Array, ...], ...]
    n_steps: Array
    converged: Array
    step: float
    record_every: int

    @property
    def gd(self) -> tuple[Array, ...]:
        return self.paths[0]

    @property
    def ngd(self) -> tuple[Array, ...]:
        return self.paths[1]

    @property
    def ef(self) -> tuple[Array, ...]:
        return self.paths[2]


def kunstner_trajectories(
    problem: KunstnerProblem,
    starts: Array | tuple[tuple[float, float], ...] = KUNSTNER_STARTS,
    step: float = 0.001,
    max_steps: int = 50_000,
    tol: float = 1e-6,
    record_every: int = 10,
) -> KunstnerTrajectories:
    """Natural-gradient flow runs in a straight line to the minimiser; GD and EF flows bend.

    Follows each field of :func:`kunstner_update_directions` by Euler steps of ``step`` (paper:
    0.001).
    A trajectory stops at the first point where ``|direction| < tol`` (converged), when it leaves
    ``|theta| < 1e6``, or after ``max_steps`` (paper: 50,000).  The GD and NGD fields are affine,
    ``d(theta) = -A (theta - theta*)`` with A symmetric, so their Euler iterates are evaluated in
    closed form, ``theta_t = theta* + (I - step A)^t (theta_0 - theta*)``; the EF field is
    stepped one Euler step at a time.  Approximates the continuous-time flows.

    >>> tr = kunstner_trajectories(kunstner_dataset(), starts=[(1.0, 0.0)], max_steps=100)
    >>> tr.ngd[0].shape, int(tr.n_steps[1, 0])
    ((11, 2), 100)
    """
    starts = np.atleast_2d(np.asarray(starts, dtype=float))
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(f"starts must be (S, 2) points (b, slope), got shape {starts.shape}")
    if not step > 0 or int(record_every) < 1 or int(max_steps) < 0:
        raise ValueError("step must be positive, record_every >= 1 and max_steps >= 0")
    record_every, max_steps = int(record_every), int(max_steps)
    H = problem.hessian()
    theta_star = problem.minimiser()
    gd_step, ngd_step, _ = KUNSTNER_STEP_SIZES
    Hd = H + _DAMPING * np.eye(2)
    affine = [gd_step * H, ngd_step * np.linalg.solve(Hd, H)]  # both symmetric (H, Hd commute)

    n_sp = starts.shape[0]
    paths: list[list[Array]] = [[], [], []]
    n_steps = np.zeros((3, n_sp), dtype=int)
    converged = np.zeros((3, n_sp), dtype=bool)
    t_all = np.arange(max_steps + 1)
    for m, A in enumerate(affine):
        A = 0.5 * (A + A.T)
        mu, V = np.linalg.eigh(np.eye(2) - step * A)
        for s, start in enumerate(starts):
            coeffs = (start - theta_star) @ V  # error in the eigenbasis
            with np.errstate(under="ignore", over="ignore"):
                E = (coeffs[None, :] * np.power(mu[None, :], t_all[:, None])) @ V.T  # (T+1, 2)
            speed = np.linalg.norm(E @ A, axis=1)
            ok = np.isfinite(speed) & (np.abs(E + theta_star).max(axis=1) < 1e6)
            stop_conv = np.flatnonzero(speed < tol)
            stop_bad = np.flatnonzero(~ok)
            first_conv = stop_conv[0] if stop_conv.size else max_steps
            k = min(first_conv, stop_bad[0] if stop_bad.size else max_steps)
            converged[m, s] = bool(stop_conv.size) and first_conv == k
            n_steps[m, s] = k
            idx = np.unique(np.r_[np.arange(0, k + 1, record_every), k])
            paths[m].append(theta_star + E[idx])

    # EF: nonlinear, one Euler step at a time. The 2 x 2 algebra is written out on Python floats,
    # one start at a time: for two unknowns that is ten times faster than numpy's per-call cost
    # (tens of thousands of steps; this was most of the page's first visit).
    ef_step = KUNSTNER_STEP_SIZES[2]
    c0, c1 = (problem.Phi.T @ problem.y / problem.n).tolist()
    (h00, h01), (h10, h11) = H.tolist()
    T4, T3, T2 = problem._moments
    T4r, T3r = T4.reshape(4, 4).T, -2.0 * T3.reshape(4, 2).T
    T2r = T2.reshape(4) + _DAMPING * np.array([1.0, 0.0, 0.0, 1.0])
    # entries (a, b, c, d) of EF + damping, row-major, each q00 t0² + q01 t0 t1 + q11 t1² + l0 t0 + l1 t1 + k0
    q00, q11, l0, l1, k0 = T4r[0].tolist(), T4r[3].tolist(), T3r[0].tolist(), T3r[1].tolist(), T2r.tolist()
    q01 = (T4r[1] + T4r[2]).tolist()
    coef = list(zip(q00, q01, q11, l0, l1, k0))
    tol2 = tol * tol
    for s, (t0, t1) in enumerate(starts.tolist()):
        pts, k = [(t0, t1)], 0
        for it in range(1, max_steps + 1):
            g0, g1 = h00 * t0 + h10 * t1 - c0, h01 * t0 + h11 * t1 - c1
            sq0, cross, sq1 = t0 * t0, t0 * t1, t1 * t1
            a, b, cc, dd = (p00 * sq0 + p01 * cross + p11 * sq1 + m0 * t0 + m1 * t1 + const
                            for p00, p01, p11, m0, m1, const in coef)
            det = a * dd - b * cc
            if det == 0.0:  # cannot happen with the damping; leave rather than divide by zero
                break
            scale = -ef_step / det
            d0, d1 = scale * (dd * g0 - b * g1), scale * (a * g1 - cc * g0)
            if d0 * d0 + d1 * d1 < tol2:
                converged[2, s] = True
                break
            t0, t1, k = t0 + step * d0, t1 + step * d1, k + 1
            if it % record_every == 0:
                pts.append((t0, t1))
            if not (abs(t0) < 1e6 and abs(t1) < 1e6):  # left the plot (or not a number)
                break
        if k % record_every:
            pts.append((t0, t1))
        n_steps[2, s] = k
        paths[2].append(np.array(pts))
    return KunstnerTrajectories(
        starts, tuple(tuple(p) for p in paths), n_steps, converged, float(step), record_every
    )


# --------------------------------------------------------------------------------------------
# The Fisher identity, by sampling
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class MonteCarloFisher:
    """Running averages of ``sum_n s_n s_n^T`` over label draws, and what they should approach.

    ``running_average`` (S, P, P): entry t averages the first t + 1 draws.  ``hessian`` (P, P) is
    the NLL Hessian (= -E[hess log p]); ``limit`` (P, P) is the exact expectation under the label
    distribution actually sampled (equal to ``hessian`` when labels come from the model).
    ``distance_to_hessian`` and ``distance_to_limit`` (S,) are Frobenius norms.
    """

    n_samples: Array
    running_average: Array
    hessian: Array
    limit: Array
    distance_to_hessian: Array
    distance_to_limit: Array


def _sample_labels(probs: Array, rng: np.random.Generator) -> Array:
    u = rng.random((probs.shape[0], 1))
    return np.minimum((np.cumsum(probs, axis=1) < u).sum(axis=1), probs.shape[1] - 1)


def monte_carlo_fisher(
    model: SoftmaxRegression,
    w: Array,
    n_samples: int,
    rng: np.random.Generator,
    label_probs: Array | None = None,
) -> MonteCarloFisher:
    """Estimate ``E[sum_n s_n s_n^T]``, ``s_n = grad log p(y_n | x_n, w)``, by sampling labels.

    With labels from the model (``label_probs=None``) the average converges to the Hessian of the
    NLL (the Fisher identity, SUM convention).  With labels from another distribution
    ``label_probs`` (N, K) (a misspecified model) it converges to ``limit`` instead, which is not
    the Hessian; ``label_probs=model.Y`` gives the empirical Fisher at every sample count.
    Memory O(S P^2): meant for small models.

    >>> m = SoftmaxRegression(np.array([[1.0, 0.5], [1.0, -1.0], [1.0, 2.0]]), [0, 1, 1])
    >>> mc = monte_carlo_fisher(m, np.zeros(4), 4000, np.random.default_rng(0))
    >>> bool(mc.distance_to_hessian[-1] < 0.1 * np.linalg.norm(mc.hessian))
    True
    """
    w = np.asarray(w, dtype=float).reshape(-1)
    n_samples = int(n_samples)
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples}")
    P, K, F = model.n_params, model.n_classes, model.n_free_classes
    if n_samples * P * P > 50_000_000:
        raise ValueError(
            f"{n_samples} samples of a {P} x {P} matrix need too much memory; "
            "use fewer samples or a smaller model"
        )
    p = model.probabilities(w)
    q = p if label_probs is None else np.asarray(label_probs, dtype=float)
    if q.shape != p.shape or np.any(q < 0) or not np.allclose(q.sum(axis=1), 1.0):
        raise ValueError(f"label_probs must be (N, K) = {p.shape} rows of probabilities")
    X, N = model.X, model.n_examples
    estimates = np.empty((n_samples, P, P))
    eye = np.eye(K)
    for t in range(n_samples):  # loop over draws; each draw is vectorised over examples
        R = (eye[_sample_labels(q, rng)] - p)[:, :F]
        S = (R[:, :, None] * X[:, None, :]).reshape(N, P)
        estimates[t] = S.T @ S
    running = np.cumsum(estimates, axis=0) / np.arange(1, n_samples + 1)[:, None, None]
    # exact limit: sum_n E_q[(e - p)(e - p)^T] (x) x x^T, E_q[...] = diag q - qp^T - pq^T + pp^T
    C = (
        np.einsum("nk,kl->nkl", q, eye)
        - np.einsum("nk,nl->nkl", q, p)
        - np.einsum("nk,nl->nkl", p, q)
        + np.einsum("nk,nl->nkl", p, p)
    )[:, :F, :F]
    limit = np.einsum("nkl,nd,ne->kdle", C, X, X).reshape(P, P)
    H = model.hessian(w)
    return MonteCarloFisher(
        n_samples=np.arange(1, n_samples + 1),
        running_average=running,
        hessian=H,
        limit=limit,
        distance_to_hessian=np.linalg.norm(running - H, axis=(1, 2)),
        distance_to_limit=np.linalg.norm(running - limit, axis=(1, 2)),
    )


# --------------------------------------------------------------------------------------------
# Empirical Fisher = gradient noise + squared mean gradient
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class EFDecomposition:
    """``empirical_fisher = covariance_part + mean_part`` (exact, up to rounding), all (P, P).

    SUM convention: ``EF = sum_n g_n g_n^T = N Cov(g) + N gbar gbar^T`` with the population
    covariance ``Cov(g) = (1/N) sum_n (g_n - gbar)(g_n - gbar)^T``.  ``mean_part`` equals
    ``G G^T / N`` for the full gradient ``G = N gbar``, so at a stationary point EF is pure
    gradient noise.
    """

    empirical_fisher: Array
    covariance_part: Array
    mean_part: Array
    mean_gradient: Array
    n: int


def ef_decomposition(per_example_grads: Array) -> EFDecomposition:
    """The empirical Fisher is gradient noise plus the squared mean gradient, not curvature.

    Splits ``sum_n g_n g_n^T`` of per-example gradients (N, P) as in :class:`EFDecomposition`.

    >>> d = ef_decomposition(np.array([[1.0, 0.0], [3.0, 2.0]]))
    >>> np.allclose(d.empirical_fisher, d.covariance_part + d.mean_part)
    True
    """
    G = np.asarray(per_example_grads, dtype=float)
    if G.ndim != 2 or G.shape[0] < 1:
        raise ValueError(f"per_example_grads must be (N, P) with N >= 1, got shape {G.shape}")
    n = G.shape[0]
    mean = G.mean(axis=0)
    centred = G - mean
    return EFDecomposition(
        empirical_fisher=G.T @ G,
        covariance_part=centred.T @ centred,
        mean_part=n * np.outer(mean, mean),
        mean_gradient=mean,
        n=n,
    )


# --------------------------------------------------------------------------------------------
# Gauss-Newton versus the Hessian for a nonlinear least-squares model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GaussNewtonComparison:
    """Least squares ``L = sum_n r_n^2``, ``r_n = f(x_n; theta) - y_n`` (SUM, no 1/2).

    ``hessian = gauss_newton + second_order_term`` exactly, with ``gauss_newton = 2 J^T J``
    (always PSD) and ``second_order_term = 2 sum_n r_n hess f(x_n)`` (vanishes when residuals
    do).  ``jacobian`` (N, 2) holds ``d f(x_n) / d theta``.
    """

    theta: Array
    loss: float
    gradient: Array
    hessian: Array
    gauss_newton: Array
    second_order_term: Array
    residuals: Array
    jacobian: Array


def _check_exponent(theta: Array, x: Array) -> None:
    ax = theta[0] * x
    if ax.size and np.max(ax) > 700:
        raise ValueError(
            f"exp(a x) overflows (a x reaches {np.max(ax):.3g} > 700); use a smaller |a| or x range"
        )


def exponential_model(theta: Array, x: Array) -> Array:
    """The nonlinear model of :func:`gauss_newton_vs_hessian`: ``exp(a x) + b``, x (N,) -> (N,)."""
    theta = np.asarray(theta, dtype=float).reshape(-1)
    x = np.asarray(x, dtype=float).reshape(-1)
    if theta.shape != (2,):
        raise ValueError(f"theta must be (a, b), got {theta.size} values")
    _check_exponent(theta, x)
    return np.exp(theta[0] * x) + theta[1]


def gauss_newton_vs_hessian(theta: Array, x: Array, y: Array) -> GaussNewtonComparison:
    """Gauss-Newton is the Hessian minus a residual-weighted term, so they agree at zero residuals.

    Exact Hessian, Gauss-Newton matrix and their difference for ``y ~ exp(a x) + b``.
    ``theta = (a, b)``; x, y (N,).  ``J_n = [x_n e^{a x_n}, 1]`` and ``hess f_n`` has the single
    entry ``x_n^2 e^{a x_n}`` at (a, a), so the two matrices differ only there, by
    ``2 sum_n r_n x_n^2 e^{a x_n}``; they coincide when all residuals are zero.

    >>> x = np.array([0.0, 0.5, 1.0])
    >>> c = gauss_newton_vs_hessian([1.0, 2.0], x, exponential_model([1.0, 2.0], x))
    >>> np.allclose(c.hessian, c.gauss_newton)
    True
    """
    theta = np.asarray(theta, dtype=float).reshape(-1)
    x = np.asarray(x, dtype=float).reshape(-1)
    y = np.asarray(y, dtype=float).reshape(-1)
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.size} and {y.size}")
    if theta.shape != (2,):
        raise ValueError(f"theta must be (a, b), got {theta.size} values")
    _check_exponent(theta, x)
    e = np.exp(theta[0] * x)
    r = e + theta[1] - y
    J = np.column_stack([x * e, np.ones_like(x)])
    gn = 2.0 * J.T @ J
    second = np.zeros((2, 2))
    second[0, 0] = 2.0 * np.sum(r * x**2 * e)
    return GaussNewtonComparison(
        theta=theta,
        loss=float(r @ r),
        gradient=2.0 * J.T @ r,
        hessian=gn + second,
        gauss_newton=gn,
        second_order_term=second,
        residuals=r,
        jacobian=J,
    )
