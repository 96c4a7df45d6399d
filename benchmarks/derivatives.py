"""1. Function derivatives: the project's Hessian and gradient evaluators against jax,
numdifftools and naive sympy, with errors against high-precision values.

For every preset and grid size, the same ``(N, n)`` array of points goes to
``parse_function(text, variables).hessian`` / ``.gradient`` (the default numpy evaluators, what
the app uses), to the same after ``.compile(fused=True)`` (numba loops, opt-in), and to
``jax.jit(jax.vmap(jax.hessian(f)))`` / ``jax.jit(jax.vmap(jax.grad(f)))`` in float64, where
``f`` is the preset's sympy expression translated to ``jax.numpy`` by :mod:`benchmarks.translate`.
The six are timed interleaved. Compile times are reported apart: jax's (its first call at each
shape, minus a steady-state call) and ours (``compile(fused=True)``, all four evaluators). The
target (at most 2x jax) is held against the compiled evaluators, as jax is timed compiled. numdifftools and ``subs().evalf()`` run point by point on a
subsample and are scaled up to N points. Errors are normwise relative, per point
(``max |a - r| / max |r|`` over the entries), against sympy's ``evalf`` at 30 digits.
"""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sympy as sp

from benchmarks.plots import loglog
from benchmarks.report import Row, Section, fmt_against, fmt_ratio, markdown_table
from benchmarks.timing import fmt_time, interleaved, time_once
from benchmarks.translate import NUMPY, jax_backend, to_function
from hessian_explorer import parse_function
from hessian_explorer.plane import Plane
from hessian_explorer.presets import PRESETS, Preset

__all__ = ["run", "Config"]

TARGET_JAX_RATIO = 2.0
TARGET_ND_SPEEDUP = 1000.0
TARGET_ERROR = 1e-10


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (50, 100, 200, 400)  # grid points per axis
    reps: int = 31
    error_points: int = 30  # subsample for the high-precision reference
    nd_points: int = 20  # numdifftools, point by point
    sympy_points: int = 4  # naive subs().evalf(), point by point
    presets: tuple[str, ...] = ()  # empty: every preset

    @classmethod
    def quick(cls) -> "Config":
        return cls(sizes=(20,), reps=3, error_points=3, nd_points=2, sympy_points=1,
                   presets=("logsumexp", "three_d"))


def grid(preset: Preset, d: int) -> np.ndarray:
    """The preset's plotted plane sampled on a ``d x d`` grid, as ``(d*d, n)`` points."""
    n = len(preset.variables)
    plane = Plane(tuple(preset.point), 0, 1 if n > 1 else 0, preset.x_range, preset.y_range, d)
    return np.ascontiguousarray(plane.grid_points().reshape(-1, n))


# -- references -------------------------------------------------------------------------------
def reference(exprs: list[sp.Expr], symbols, points: np.ndarray, digits: int = 30) -> np.ndarray:
    """``exprs`` at each point by sympy's ``evalf`` at ``digits`` digits; ``nan`` where not real."""
    out = np.full((len(points), len(exprs)), np.nan)
    for p, point in enumerate(points):
        subs = {s: sp.Float(float(x), digits) for s, x in zip(symbols, point)}
        for k, e in enumerate(exprs):
            value = sp.N(e, digits, subs=subs)
            if value.is_real and value.is_finite:
                out[p, k] = float(value)
    return out


def relative_error(approx: np.ndarray, exact: np.ndarray) -> float:
    """Worst normwise relative error over points (rows) where the reference is defined."""
    approx = np.asarray(approx, dtype=float).reshape(exact.shape)
    defined = np.isfinite(exact).all(axis=1)
    if not defined.any():
        return float("nan")
    a, r = approx[defined], exact[defined]
    scale = np.abs(r).max(axis=1)
    diff = np.abs(a - r).max(axis=1)
    with np.errstate(all="ignore"):
        err = np.where(scale > 0, diff / np.where(scale > 0, scale, 1.0), diff)
    err[~np.isfinite(err)] = np.inf
    return float(err.max())


def _per_point(fn, points: np.ndarray) -> tuple[float, np.ndarray]:
    """Seconds per point and the stacked results of ``fn`` called point by point."""
    results = []
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        for x in points:
            results.append(np.asarray(fn(x), dtype=float))
        elapsed = time.perf_counter() - start
    return elapsed / max(len(points), 1), np.array(results)


# -- one preset ----------------------------------------------------------------------------------
@dataclass
class PresetResult:
    key: str
    n: int
    # per size: medians (s) and compile times
    ours_h: dict[int, float]
    jax_h: dict[int, float]
    ours_g: dict[int, float]
    jax_g: dict[int, float]
    fused_h: dict[int, float]
    fused_g: dict[int, float]
    fuse_compile: float  # compile(fused=True), seconds
    compile_h: dict[int, float]
    compile_g: dict[int, float]
    nd_h_per_point: float
    nd_g_per_point: float
    sympy_h_per_point: float
    sympy_g_per_point: float
    errors: dict[str, float]  # method/what -> max relative error


def _bench_preset(preset: Preset, cfg: Config, jax, backend, rng: np.random.Generator) -> PresetResult:
    import numdifftools as nd

    f = parse_function(preset.text, preset.variables)
    fast = parse_function(preset.text, preset.variables)
    fuse_compile = time_once(lambda: fast.compile(fused=True))
    n = f.n
    upper = [(i, j) for i in range(n) for j in range(i, n)]
    jf = to_function(f.expr, f.symbols, backend)
    jax_h = jax.jit(jax.vmap(jax.hessian(jf)))
    jax_g = jax.jit(jax.vmap(jax.grad(jf)))

    res = PresetResult(preset.key, n, {}, {}, {}, {}, {}, {}, fuse_compile, {}, {}, 0, 0, 0, 0, {})
    for d in cfg.sizes:
        pts = grid(preset, d)
        res.compile_h[d] = time_once(lambda: jax_h(pts).block_until_ready())
        res.compile_g[d] = time_once(lambda: jax_g(pts).block_until_ready())
        t = interleaved({
            "ours_h": lambda: f.hessian(pts),
            "jax_h": lambda: jax_h(pts).block_until_ready(),
            "ours_g": lambda: f.gradient(pts),
            "jax_g": lambda: jax_g(pts).block_until_ready(),
            "fused_h": lambda: fast.hessian(pts),
            "fused_g": lambda: fast.gradient(pts),
        }, reps=cfg.reps)
        res.fused_h[d], res.fused_g[d] = t["fused_h"].median, t["fused_g"].median
        res.ours_h[d], res.jax_h[d] = t["ours_h"].median, t["jax_h"].median
        res.ours_g[d], res.jax_g[d] = t["ours_g"].median, t["jax_g"].median
        res.compile_h[d] = max(res.compile_h[d] - res.jax_h[d], 0.0)
        res.compile_g[d] = max(res.compile_g[d] - res.jax_g[d], 0.0)

    # Errors and the point-by-point tools, on one random subsample of the middle grid.
    pool = grid(preset, 100)
    sub = pool[rng.choice(len(pool), size=min(cfg.error_points, len(pool)), replace=False)]
    ref_h = reference([f.hessian_expr[i, j] for i, j in upper], f.symbols, sub)
    ref_g = reference(list(f.gradient_expr), f.symbols, sub)

    def upper_of(h):  # (m, n, n) -> (m, n(n+1)/2)
        h = np.asarray(h, dtype=float).reshape(-1, n, n)
        return np.stack([h[:, i, j] for i, j in upper], axis=1)

    res.errors["ours_h"] = relative_error(upper_of(f.hessian(sub)), ref_h)
    res.errors["ours_g"] = relative_error(f.gradient(sub), ref_g)
    res.errors["fused_h"] = relative_error(upper_of(fast.hessian(sub)), ref_h)
    res.errors["fused_g"] = relative_error(fast.gradient(sub), ref_g)
    res.errors["jax_h"] = relative_error(upper_of(jax_h(sub)), ref_h)
    res.errors["jax_g"] = relative_error(np.asarray(jax_g(sub)), ref_g)

    fn = to_function(f.expr, f.symbols, NUMPY)
    nd_sub = sub[: cfg.nd_points]
    res.nd_h_per_point, nd_h = _per_point(nd.Hessian(fn), nd_sub)
    res.nd_g_per_point, nd_g = _per_point(nd.Gradient(fn), nd_sub)
    res.errors["nd_h"] = relative_error(upper_of(nd_h), ref_h[: len(nd_sub)])
    res.errors["nd_g"] = relative_error(nd_g, ref_g[: len(nd_sub)])

    sy_sub = sub[: cfg.sympy_points]
    hess_m, grad_m = f.hessian_expr, sp.Matrix(f.gradient_expr)

    def naive(matrix):
        def at(x):
            value = matrix.subs(dict(zip(f.symbols, (float(v) for v in x)))).evalf()
            return [complex(v).real if complex(v).imag == 0 else math.nan for v in value]
        return at

    res.sympy_h_per_point, sy_h = _per_point(naive(hess_m), sy_sub)
    res.sympy_g_per_point, sy_g = _per_point(naive(grad_m), sy_sub)
    res.errors["sympy_h"] = relative_error(upper_of(sy_h), ref_h[: len(sy_sub)])
    res.errors["sympy_g"] = relative_error(sy_g, ref_g[: len(sy_sub)])
    return res


# -- the section ---------------------------------------------------------------------------------
def _gmean(values) -> float:
    values = [v for v in values if v > 0 and math.isfinite(v)]
    return float(np.exp(np.mean(np.log(values)))) if values else float("nan")


def _worst(errors) -> float:
    """The largest error, ignoring ``nan`` (no point where the reference is defined)."""
    errors = [e for e in errors if not math.isnan(e)]
    return max(errors) if errors else math.nan


def _fmt_err(x: float) -> str:
    """An error for the tables; ``∞`` means a ``nan`` where the reference is defined."""
    if math.isnan(x):
        return "–"
    return "∞" if math.isinf(x) else (f"{x:.1e}" if x > 0 else "0")


def run(quick: bool = False, plots_dir: Path | None = None) -> Section:
    cfg = Config.quick() if quick else Config()
    import jax

    jax.config.update("jax_enable_x64", True)
    backend = jax_backend()
    rng = np.random.default_rng(2024)
    presets = [p for p in PRESETS if not cfg.presets or p.key in cfg.presets]
    results = [_bench_preset(p, cfg, jax, backend, rng) for p in presets]
    sizes = cfg.sizes
    section = Section("derivatives", "1. Function derivatives")

    # Detail table: one row per preset, ratio ours/jax per size, for the Hessian and the gradient.
    header = ["preset"] + [f"H {d}²" for d in sizes] + [f"∇ {d}²" for d in sizes] + [
        "nd speed-up H (min)", "err ours H", "err jax H", "err nd H", "err sympy H", "err ours ∇"]
    table = []
    for r in results:
        nd_speedups = [r.nd_h_per_point * d * d / r.ours_h[d] for d in sizes]
        table.append([r.key]
                     + [fmt_ratio(r.ours_h[d] / r.jax_h[d]) for d in sizes]
                     + [fmt_ratio(r.ours_g[d] / r.jax_g[d]) for d in sizes]
                     + [fmt_ratio(min(nd_speedups)), _fmt_err(r.errors["ours_h"]), _fmt_err(r.errors["jax_h"]),
                        _fmt_err(r.errors["nd_h"]), _fmt_err(r.errors["sympy_h"]), _fmt_err(r.errors["ours_g"])])
    section.details.append(
        "Default evaluators (numpy kernels, what the app uses; no compile step): time of ours / time "
        "of jax (jit, vmap, float64; compile excluded), per preset and grid size (H: Hessian, ∇: "
        "gradient; below 1 means faster than jax). Errors: worst normwise relative error per point "
        "against sympy `evalf` at 30 digits.\n\n" + markdown_table(header, table))
    fused_table = [[r.key] + [fmt_ratio(r.fused_h[d] / r.jax_h[d]) for d in sizes]
                   + [fmt_ratio(r.fused_g[d] / r.jax_g[d]) for d in sizes]
                   + [fmt_time(r.fuse_compile), _fmt_err(r.errors["fused_h"]), _fmt_err(r.errors["fused_g"])]
                   for r in results]
    section.details.append(
        "Compiled evaluators (`Function.compile(fused=True)`: numba loops, opt-in), the counterpart "
        "of jax's jit: time of ours / time of jax, compile times excluded on both sides (ours: all "
        "four evaluators, value, gradient, Hessian and all three; the first preset also starts "
        "numba).\n\n" + markdown_table(
            ["preset"] + [f"H {d}²" for d in sizes] + [f"∇ {d}²" for d in sizes]
            + ["compile(fused=True)", "err H", "err ∇"], fused_table))

    abs_rows = []
    for d in sizes:
        abs_rows.append([f"{d}² = {d * d:,}",
                         fmt_time(_gmean(r.ours_h[d] for r in results)), fmt_time(_gmean(r.jax_h[d] for r in results)),
                         fmt_time(_gmean(r.ours_g[d] for r in results)), fmt_time(_gmean(r.jax_g[d] for r in results)),
                         fmt_time(_gmean(r.fused_h[d] for r in results)), fmt_time(_gmean(r.fused_g[d] for r in results)),
                         fmt_time(_gmean(r.compile_h[d] for r in results)),
                         fmt_time(_gmean(r.nd_h_per_point * d * d for r in results)),
                         fmt_time(_gmean(r.sympy_h_per_point * d * d for r in results))])
    section.details.append(
        "Absolute times (geometric mean over presets; numdifftools and sympy scaled up from "
        f"{cfg.nd_points} and {cfg.sympy_points} points per preset):\n\n" + markdown_table(
            ["points", "ours H", "jax H", "ours ∇", "jax ∇", "ours fused H", "ours fused ∇", "jax compile H",
             "numdifftools H", "sympy subs H"],
            abs_rows))

    # Summary rows: the target against the compiled evaluators (jax is timed compiled too), and the
    # default ones beside them for what the app gets without a compile step.
    for what, ours, ref in (("Hessian", "h", "jax_h"), ("gradient", "g", "jax_g")):
        for d in sizes:
            for kind, label in (("fused", "compiled (fused=True)"), ("ours", "default numpy")):
                ratios = {r.key: getattr(r, f"{kind}_{ours}")[d] / getattr(r, ref)[d] for r in results}
                worst = max(ratios, key=ratios.get)
                target = kind == "fused"
                section.rows.append(Row(
                    "derivatives", f"{what} vs jax, {d}² grid, {label}: worst preset ({worst}); "
                    f"geo. mean {fmt_ratio(_gmean(ratios.values()))}",
                    fmt_time(getattr(next(r for r in results if r.key == worst), f"{kind}_{ours}")[d]),
                    fmt_time(getattr(next(r for r in results if r.key == worst), ref)[d]),
                    fmt_against(ratios[worst], TARGET_JAX_RATIO) if target else fmt_ratio(ratios[worst]),
                    f"≤ {TARGET_JAX_RATIO:g}×" if target else "–",
                    ratios[worst] <= TARGET_JAX_RATIO if target else None))
    for what, per_point, ours in (("Hessian", "nd_h_per_point", "ours_h"), ("gradient", "nd_g_per_point", "ours_g")):
        speedups = {(r.key, d): getattr(r, per_point) * d * d / getattr(r, ours)[d] for r in results for d in sizes}
        (key, d) = min(speedups, key=speedups.get)
        section.rows.append(Row(
            "derivatives", f"{what}: speed-up over numdifftools, worst case ({key}, {d}²)",
            fmt_time(getattr(next(r for r in results if r.key == key), ours)[d]),
            fmt_time(getattr(next(r for r in results if r.key == key), per_point) * d * d),
            fmt_ratio(speedups[key, d]), f"> {TARGET_ND_SPEEDUP:,.0f}×", speedups[key, d] > TARGET_ND_SPEEDUP))
    speedups = {(r.key, d): r.sympy_h_per_point * d * d / r.ours_h[d] for r in results for d in sizes}
    (key, d) = min(speedups, key=speedups.get)
    section.rows.append(Row("derivatives", f"Hessian: speed-up over sympy subs().evalf(), worst case ({key}, {d}²)",
                            fmt_time(next(r for r in results if r.key == key).ours_h[d]),
                            fmt_time(next(r for r in results if r.key == key).sympy_h_per_point * d * d),
                            fmt_ratio(speedups[key, d]), "–", None))
    for what in ("h", "g"):  # the worse of the default and the compiled evaluators
        errs = {r.key: _worst([r.errors[f"ours_{what}"], r.errors[f"fused_{what}"]]) for r in results}
        worst = max(errs, key=lambda k: -1.0 if math.isnan(errs[k]) else errs[k])
        others = ", ".join(
            f"{name} {_fmt_err(_worst(r.errors[f'{tool}_{what}'] for r in results if math.isfinite(r.errors[f'{tool}_{what}'])))}"
            for tool, name in (("jax", "jax"), ("nd", "numdifftools"), ("sympy", "sympy")))
        section.rows.append(Row("derivatives", f"max relative error, {'Hessian' if what == 'h' else 'gradient'} "
                                f"(worst: {worst}; others: {others})", _fmt_err(errs[worst]), "mpmath 30 digits",
                                "–", f"≤ {TARGET_ERROR:g}", errs[worst] <= TARGET_ERROR))
    failing = sorted({r.key for r in results for k, e in r.errors.items() if math.isinf(e)})
    if failing:
        section.notes.append("∞ in the error columns: the tool gave nan where the function is defined (numdifftools' "
                             "stencil steps outside the domain near its edge) for: " + ", ".join(failing) + ".")
    compile_all = [r.compile_h[d] for r in results for d in sizes]
    section.notes.append(f"jax compile time (first call per shape, minus a steady call), Hessian: median "
                         f"{fmt_time(float(np.median(compile_all)))}, max {fmt_time(max(compile_all))}; "
                         "not included in the ratios.")
    fuse_all = [r.fuse_compile for r in results]
    section.notes.append(f"Our compile(fused=True), per preset (four evaluators): median {fmt_time(float(np.median(fuse_all)))}, "
                         f"max {fmt_time(max(fuse_all))} (the first preset also starts numba); not included in the ratios.")

    if plots_dir is not None:
        npts = [d * d for d in sizes]
        panels = []
        for what, ours, ref, nd_pp, sy_pp in (("Hessian", "ours_h", "jax_h", "nd_h_per_point", "sympy_h_per_point"),
                                              ("gradient", "ours_g", "jax_g", "nd_g_per_point", "sympy_g_per_point")):
            panels.append((f"{what}: time vs grid size (geo. mean over presets)", "points", "seconds", {
                "Hessian Explorer (numpy)": (npts, [_gmean(getattr(r, ours)[d] for r in results) for d in sizes]),
                "Hessian Explorer (fused)": (npts, [_gmean(getattr(r, "fused" + ours[4:])[d] for r in results)
                                                    for d in sizes]),
                "jax jit(vmap)": (npts, [_gmean(getattr(r, ref)[d] for r in results) for d in sizes]),
                "numdifftools (scaled)": (npts, [_gmean(getattr(r, nd_pp) * d * d for r in results) for d in sizes]),
                "sympy subs (scaled)": (npts, [_gmean(getattr(r, sy_pp) * d * d for r in results) for d in sizes]),
            }))
        section.plots.append(loglog(plots_dir / "derivatives.png", panels))
    return section
