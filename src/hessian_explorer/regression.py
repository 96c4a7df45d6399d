"""Least squares on basis functions of one input, analysed for teaching (seed 001).

Builds on :class:`hessian_explorer.models.LeastSquares` (SUM convention, no 1/2):
``L(theta) = sum_n (y_n - phi(x_n)^T theta)^2 + ridge |theta|^2``, whose Hessian
``H = 2 Phi^T Phi + 2 ridge I`` is exact and constant. This module adds what the page shows:
a basis chosen by name (:class:`Basis`), the fit with its eigen-analysis and, when the normal
equations fail, the reason and the minimisers that remain (:func:`fit_least_squares`); a
numerical check that H depends on neither theta nor y (:func:`hessian_independence`); and the
seed's worked exercise for three points (:func:`worked_exercise`).

Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hessian_explorer.models import (
    Diagnosis,
    LeastSquares,
    SingularProblemError,
    fourier_features,
    polynomial_features,
    rbf_features,
)
from hessian_explorer.notation import subscript, superscript

__all__ = [
    "BASES",
    "Basis",
    "LeastSquaresFit",
    "fit_least_squares",
    "failure_meaning",
    "zero_tolerance",
    "IndependenceCheck",
    "hessian_independence",
    "WorkedExercise",
    "worked_exercise",
]

Array = np.ndarray

#: kind -> label shown in the app.
BASES: dict[str, str] = {"polynomial": "Polynomial", "rbf": "Gaussian bumps (RBF)", "fourier": "Fourier"}


@dataclass(frozen=True)
class Basis:
    """A family of basis functions on ``domain = (lo, hi)``; ``P = n_params`` columns of Phi.

    - ``polynomial``: ``[1, x, ..., x^degree]``, P = degree + 1.
    - ``rbf``: ``[1, exp(-(x - c_j)^2 / (2 width^2))]`` with ``n_centres`` centres evenly spaced
      over the domain, P = n_centres + 1.
    - ``fourier``: ``[1, sin(2 pi k x / T), cos(2 pi k x / T)]``, k = 1..n_frequencies, period
      ``T = 2 (hi - lo)`` (so the two ends are not forced to meet), P = 2 n_frequencies + 1.
    """

    kind: str = "polynomial"
    degree: int = 3
    n_centres: int = 5
    width: float = 0.3
    n_frequencies: int = 2
    domain: tuple[float, float] = (-1.0, 1.0)

    def __post_init__(self) -> None:
        if self.kind not in BASES:
            raise ValueError(f"unknown basis {self.kind!r}; choose one of {', '.join(BASES)}")
        lo, hi = self.domain
        if not (np.isfinite(lo) and np.isfinite(hi) and hi > lo):
            raise ValueError(f"domain must be a finite interval lo < hi, got {self.domain!r}")
        if not (0 <= self.degree <= 20 and 1 <= self.n_centres <= 50 and 0 <= self.n_frequencies <= 20):
            raise ValueError("need 0 <= degree <= 20, 1 <= n_centres <= 50, 0 <= n_frequencies <= 20")
        if not self.width > 0:
            raise ValueError(f"width must be positive, got {self.width!r}")

    @property
    def centres(self) -> Array:
        return np.linspace(self.domain[0], self.domain[1], self.n_centres)

    @property
    def period(self) -> float:
        return 2.0 * (self.domain[1] - self.domain[0])

    @property
    def n_params(self) -> int:
        return {"polynomial": self.degree + 1, "rbf": self.n_centres + 1,
                "fourier": 2 * self.n_frequencies + 1}[self.kind]

    def design(self, x: Array) -> Array:
        """Phi(x), shape (N, P), from the core feature functions."""
        if self.kind == "polynomial":
            return polynomial_features(x, self.degree)
        if self.kind == "rbf":
            return rbf_features(x, self.centres, self.width)
        return fourier_features(x, self.n_frequencies, self.period)

    @property
    def names(self) -> tuple[str, ...]:
        """Short names of the P basis functions (column headers of Phi), e.g. ``('1', 'x', 'x²')``."""
        if self.kind == "polynomial":
            return ("1", "x")[: self.degree + 1] + tuple("x" + superscript(k) for k in range(2, self.degree + 1))
        if self.kind == "rbf":
            return ("1",) + tuple("g" + subscript(j) for j in range(1, self.n_centres + 1))
        out = ["1"]
        for k in range(1, self.n_frequencies + 1):
            out += ["sin" + subscript(k), "cos" + subscript(k)]
        return tuple(out)

    @property
    def latex(self) -> str:
        """The basis as LaTeX, ``phi(x)^T = [...]`` with its parameters."""
        if self.kind == "polynomial":
            terms = ["1", "x"][: self.degree + 1] + [f"x^{{{k}}}" for k in range(2, self.degree + 1)]
            return r"\phi(x)^\top = [" + ",\\ ".join(terms) + "]"
        if self.kind == "rbf":
            return (r"\phi(x)^\top = [1,\ g_1(x), \dots, g_{" + str(self.n_centres) + r"}(x)],\quad "
                    r"g_j(x) = e^{-(x - c_j)^2 / (2 s^2)},\ s = " + f"{self.width:g}")
        return (r"\phi(x)^\top = [1,\ \sin\tfrac{2\pi x}{T},\ \cos\tfrac{2\pi x}{T}, \dots, "
                r"\sin\tfrac{2\pi " + str(self.n_frequencies) + r" x}{T},\ \cos\tfrac{2\pi "
                + str(self.n_frequencies) + r" x}{T}],\quad T = " + f"{self.period:g}")


def zero_tolerance(eigenvalues: Array) -> float:
    """Eigenvalues at or below this count as zero: ``P * eps * max |lambda|`` (rounding level)."""
    ev = np.asarray(eigenvalues, dtype=float)
    top = float(np.abs(ev).max()) if ev.size else 0.0
    return max(ev.size, 1) * np.finfo(float).eps * max(top, np.finfo(float).tiny)


@dataclass(frozen=True, eq=False)
class LeastSquaresFit:
    """Everything the page shows about one least-squares problem.

    ``theta`` is the unique minimiser, or None when :meth:`LeastSquares.solve` raised
    :class:`SingularProblemError` (then ``error`` holds its message). ``centre`` is ``theta`` if
    it exists, else the minimum-norm least-squares solution (one of many minimisers, or, for an
    ill-conditioned problem, one that rounding cannot pin down). ``eigenvalues`` (P,) ascending
    with unit ``eigenvectors`` (P, P) as columns, of ``hessian`` = ``2 Phi^T Phi + 2 ridge I``.
    ``grid`` (G,) spans the data with a 5 % margin; ``curve`` (G,) is ``phi(grid)^T centre``;
    ``others`` (2, G) are curves of ``centre +/- s v_min`` (v_min the flattest eigenvector, s such
    that they move by half the spread of y between the data) with the same, or nearly the same,
    loss ``others_loss``, drawn when the minimiser is not unique.
    """

    x: Array
    y: Array
    basis: Basis
    ridge: float
    problem: LeastSquares
    hessian: Array
    eigenvalues: Array
    eigenvectors: Array
    diagnosis: Diagnosis
    theta: Array | None
    error: str | None
    centre: Array
    loss: float
    grid: Array
    curve: Array
    others: Array
    others_loss: float

    @property
    def Phi(self) -> Array:
        return self.problem.Phi

    @property
    def n_points(self) -> int:
        return int(self.x.size)

    @property
    def n_params(self) -> int:
        return self.problem.n_params

    @property
    def min_eigenvalue(self) -> float:
        return float(self.eigenvalues[0])

    @property
    def zero_tol(self) -> float:
        return zero_tolerance(self.eigenvalues)

    @property
    def n_zero(self) -> int:
        """How many eigenvalues of H are zero up to rounding (flat directions)."""
        return int(np.sum(self.eigenvalues <= self.zero_tol))

    @property
    def positive_definite(self) -> bool:
        return bool(self.min_eigenvalue > self.zero_tol)

    @property
    def condition_number(self) -> float:
        return self.diagnosis.condition_number

    @property
    def digits_lost(self) -> int:
        """About how many of the 16 significant digits rounding can cost when solving: log10(condition)."""
        cond = self.condition_number
        return 16 if not np.isfinite(cond) else max(0, int(np.log10(cond)))

    @property
    def parameter_labels(self) -> tuple[str, ...]:
        return tuple("θ" + subscript(i) for i in range(self.n_params))


def fit_least_squares(x: Array, y: Array, basis: Basis, ridge: float = 0.0, grid_size: int = 300) -> LeastSquaresFit:
    """Fit ``y ~ phi(x)^T theta`` by the normal equations and analyse its Hessian; never raises
    for a singular problem (the failure is reported in the result).

    >>> fit = fit_least_squares([-1.0, 0.0, 2.0], [1.0, 0.0, 4.0], Basis("polynomial", degree=2))
    >>> bool(np.allclose(fit.theta, [0.0, 0.0, 1.0])), fit.positive_definite
    (True, True)
    >>> fit_least_squares([1.0, 1.0, 2.0], [0.0, 1.0, 2.0], Basis("polynomial", degree=2)).error
    'cannot solve the normal equations: repeated x values leave only 2 distinct points for 3 basis functions: use distinct x values, lower the degree, or add ridge > 0'
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    y = np.asarray(y, dtype=float).reshape(-1)
    problem = LeastSquares(basis.design(x), y, ridge=float(ridge))
    H = problem.hessian()
    eigenvalues, eigenvectors = np.linalg.eigh(H)
    diagnosis = problem.diagnose()
    theta: Array | None
    try:
        theta = problem.solve()
        error = None
        centre = theta
    except SingularProblemError as err:
        theta, error = None, str(err)
        A = problem.Phi
        b = problem.y
        if problem.ridge > 0:
            A = np.vstack([A, np.sqrt(problem.ridge) * np.eye(problem.n_params)])
            b = np.concatenate([b, np.zeros(problem.n_params)])
        centre = np.linalg.lstsq(A, b, rcond=None)[0]
    lo, hi = (float(x.min()), float(x.max())) if x.size else basis.domain
    lo, hi = min(lo, basis.domain[0]), max(hi, basis.domain[1])
    pad = 0.05 * (hi - lo)
    grid = np.linspace(lo - pad, hi + pad, int(grid_size))
    Phi_grid = basis.design(grid)
    curve = Phi_grid @ centre
    v = eigenvectors[:, 0]
    along = Phi_grid @ v
    spread = float(np.ptp(y)) if y.size > 1 else 1.0
    inside = (grid >= x.min()) & (grid <= x.max()) if x.size and np.ptp(x) > 0 else np.ones(grid.size, bool)
    s = 0.5 * max(spread, 1e-3) / max(float(np.abs(along[inside]).max()), 1e-300)
    others = np.vstack([curve + s * along, curve - s * along])
    for a in (grid, curve, others):
        a.setflags(write=False)
    return LeastSquaresFit(
        x=x, y=y, basis=basis, ridge=float(ridge), problem=problem, hessian=H, eigenvalues=eigenvalues,
        eigenvectors=eigenvectors, diagnosis=diagnosis, theta=theta, error=error, centre=centre,
        loss=problem.loss(centre), grid=grid, curve=curve, others=others,
        others_loss=problem.loss(centre + s * v),
    )


def failure_meaning(diagnosis: Diagnosis, ridge: float = 0.0) -> str | None:
    """What a failed :func:`~hessian_explorer.models.diagnose` means for H and the minimiser, or None.

    The cases follow ``diagnose``'s order: N < P, repeated x, dependent columns, ill-conditioning.

    >>> from hessian_explorer.models import diagnose
    >>> failure_meaning(diagnose(polynomial_features([0.0, 1.0], 2)))[:37]
    'N = 2 equations for P = 3 unknowns: Φ'
    """
    if not diagnosis.is_singular:
        return None
    n, p, distinct, rank = diagnosis.n_points, diagnosis.n_basis, diagnosis.n_distinct_rows, diagnosis.rank
    flat = ("Along such a v the loss is flat (vᵀHv = 2|Φv|² = 0), so H has a zero eigenvalue and infinitely "
            "many θ fit the data equally well: θ̂ is not unique.")
    if ridge <= 0 and n < p:
        return (f"N = {n} equations for P = {p} unknowns: Φ has at least {p - n} independent directions v ≠ 0 "
                f"with Φv = 0. {flat}")
    if ridge <= 0 and distinct < p:
        return (f"Equal x values give equal rows of Φ, so only {distinct} rows differ: it is as if N = {distinct} "
                f"< P = {p}, and some v ≠ 0 has Φv = 0. {flat}")
    if ridge <= 0 and rank < p:
        return (f"A combination of basis functions vanishes at every data point (rank {rank} < {p}): Φv = 0 for "
                f"some v ≠ 0. {flat}")
    digits = int(np.log10(diagnosis.condition_number)) if np.isfinite(diagnosis.condition_number) else 16
    return (f"ΦᵀΦ is invertible in exact arithmetic, but its eigenvalues span about {digits} orders of magnitude: "
            "the smallest is below the rounding error of the largest (16 digits). Solving amplifies rounding "
            "errors by the condition number, so θ̂ cannot be trusted: some columns of Φ are almost parallel "
            "(on [0, 10], x⁸ and x⁹ look alike).")


@dataclass(frozen=True, eq=False)
class IndependenceCheck:
    """Hessians MEASURED by central differences of the gradient, at two different (theta, y).

    ``at_fit`` is measured at ``(centre, y)``; ``elsewhere`` at ``(theta_other, y_other)`` with a
    random theta and ``y_other = y + N(0, 1)`` noise. ``gradient_at_fit`` and
    ``gradient_elsewhere`` differ (the gradient depends on theta and y) while both Hessians equal
    ``exact = 2 Phi^T Phi + 2 ridge I`` up to rounding: ``max_difference`` is the largest entry of
    ``|elsewhere - at_fit|``.
    """

    exact: Array
    at_fit: Array
    elsewhere: Array
    theta_other: Array
    y_other: Array
    gradient_at_fit: Array
    gradient_elsewhere: Array

    @property
    def max_difference(self) -> float:
        return float(np.abs(self.elsewhere - self.at_fit).max())

    @property
    def relative_difference(self) -> float:
        """``max_difference`` over the largest entry of ``exact`` (rounding level: about 1e-15)."""
        return self.max_difference / max(float(np.abs(self.exact).max()), np.finfo(float).tiny)

    @property
    def gradient_norms(self) -> tuple[float, float]:
        """``(|gradient_at_fit|, |gradient_elsewhere|)``."""
        return float(np.linalg.norm(self.gradient_at_fit)), float(np.linalg.norm(self.gradient_elsewhere))

    @property
    def max_error(self) -> float:
        """Largest entry of ``|measured - exact|`` over both measurements."""
        return float(max(np.abs(self.at_fit - self.exact).max(), np.abs(self.elsewhere - self.exact).max()))


def _measured_hessian(problem: LeastSquares, theta: Array, step: float = 1.0) -> Array:
    """Central differences of the gradient, column by column. The gradient of a quadratic is
    affine, so the differences are exact for any step, up to rounding."""
    P = problem.n_params
    cols = [(problem.gradient(theta + step * e) - problem.gradient(theta - step * e)) / (2 * step)
            for e in np.eye(P)]
    return np.column_stack(cols)


def hessian_independence(fit: LeastSquaresFit, seed: int = 0) -> IndependenceCheck:
    """Measure H at the fit and at a random theta with resampled y: the two are the same matrix.

    >>> fit = fit_least_squares([0.0, 1.0, 2.0], [1.0, 3.0, 2.0], Basis("polynomial", degree=1))
    >>> check = hessian_independence(fit)
    >>> check.max_difference < 1e-9, bool(np.allclose(check.gradient_at_fit, 0))
    (True, True)
    """
    rng = np.random.default_rng([int(seed), 3])
    problem = fit.problem
    scale = max(float(np.abs(fit.centre).max()), 1.0)
    theta_other = fit.centre + scale * rng.standard_normal(problem.n_params)
    y_other = problem.y + rng.standard_normal(problem.y.size)
    other = LeastSquares(problem.Phi, y_other, weight=problem.weight, ridge=problem.ridge)
    return IndependenceCheck(
        exact=problem.hessian(),
        at_fit=_measured_hessian(problem, fit.centre),
        elsewhere=_measured_hessian(other, theta_other),
        theta_other=theta_other,
        y_other=y_other,
        gradient_at_fit=problem.gradient(fit.centre),
        gradient_elsewhere=other.gradient(theta_other),
    )


@dataclass(frozen=True, eq=False)
class WorkedExercise:
    """Seed 001's exercise: three points, ``phi(x)^T = [1, x, x^2]``.

    ``Phi`` (3, 3); ``PhiTPhi``, ``PhiTy`` the normal equations; ``det_Phi`` equals the
    Vandermonde product ``(x2 - x1)(x3 - x1)(x3 - x2)``, zero exactly when two x coincide;
    ``inverse`` of ``Phi^T Phi`` and ``theta`` are None when the formula fails (``error`` says
    why). ``hessian`` is ``2 Phi^T Phi`` with ascending ``eigenvalues``.
    """

    x: Array
    y: Array
    Phi: Array
    PhiTPhi: Array
    PhiTy: Array
    det_Phi: float
    differences: Array
    inverse: Array | None
    theta: Array | None
    error: str | None
    hessian: Array
    eigenvalues: Array
    loss: float | None

    @property
    def zero_tol(self) -> float:
        return zero_tolerance(self.eigenvalues)


def worked_exercise(x: Array, y: Array) -> WorkedExercise:
    """Solve the exercise for three points; never raises when two x coincide (see ``error``).

    >>> ex = worked_exercise([-1.0, 0.0, 2.0], [2.0, 1.0, 5.0])
    >>> bool(np.allclose(ex.theta, [1.0, 0.0, 1.0])), ex.det_Phi
    (True, 6.0)
    """
    x = np.asarray(x, dtype=float).reshape(-1)
    y = np.asarray(y, dtype=float).reshape(-1)
    if x.shape != (3,) or y.shape != (3,):
        raise ValueError("the exercise has exactly three points: give three x and three y values")
    problem = LeastSquares(polynomial_features(x, 2), y)
    Phi = problem.Phi
    differences = np.array([x[1] - x[0], x[2] - x[0], x[2] - x[1]])
    H = problem.hessian()
    try:
        theta = problem.solve()
        error = None
        inverse = np.linalg.inv(Phi.T @ Phi)
        loss = problem.loss(theta)
    except SingularProblemError as err:
        theta, error, inverse, loss = None, str(err), None, None
    return WorkedExercise(
        x=x, y=y, Phi=Phi, PhiTPhi=Phi.T @ Phi, PhiTy=Phi.T @ y, det_Phi=float(np.prod(differences)),
        differences=differences, inverse=inverse, theta=theta, error=error, hessian=H,
        eigenvalues=np.linalg.eigvalsh(H), loss=loss,
    )
