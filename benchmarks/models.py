"""2. Models: the dense softmax Hessian and Hessian-vector products against jax, and the top
eigenvalues by Lanczos against dense ``eigvalsh`` as the number of parameters P grows.

The dense comparison uses scikit-learn's bundled digits (N = 1797, D = 64 pixels scaled to
[0, 1], K = 10 classes, P = 640) at a fixed random ``w``; jax differentiates the same loss,
``-sum(Y * log_softmax(X W^T))``, in float64 (``jax.jit(jax.hessian(loss))``, and
``jvp`` of ``grad`` for the product), compile time apart. For the scaling study the digits are
mapped to D random Fourier features (D = P / K), so P runs from 10 to 10^4 with N fixed. Peak
memory is measured with ``tracemalloc`` (numpy's allocations are traced) in a separate,
untimed call, relative to the memory already held.
"""

from __future__ import annotations

import math
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks.plots import loglog
from benchmarks.report import Row, Section, fmt_ratio, markdown_table
from benchmarks.timing import fit_exponent, fmt_time, interleaved, time_once
from hessian_explorer.models import SoftmaxRegression, top_eigenpairs

__all__ = ["run", "Config"]

TARGET_DENSE_RATIO = 0.5
TARGET_MEMORY_EXPONENT = 1.15  # "linear in P", allowing for the fixed O(N K) part


@dataclass(frozen=True)
class Config:
    reps: int = 9
    n_examples: int | None = None  # None: all 1797 digits
    n_pixels: int = 64  # D of the dense comparison (the first pixels of each image)
    p_sizes: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000, 10000)
    dense_max_p: int = 3000
    scaling_reps: int = 3
    k: int = 5

    @classmethod
    def quick(cls) -> "Config":
        return cls(reps=2, n_examples=200, n_pixels=16, p_sizes=(10, 40, 160), dense_max_p=160, scaling_reps=1)


def digits(n_examples: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return X[:n_examples] / 16.0, y[:n_examples]


def random_features(X: np.ndarray, d: int, rng: np.random.Generator) -> np.ndarray:
    """``sqrt(2/d) cos(X Ω + b)``: d random Fourier features of a Gaussian kernel."""
    omega = rng.normal(0.0, 1.0 / 3.0, size=(X.shape[1], d))
    b = rng.uniform(0.0, 2 * np.pi, size=d)
    return np.sqrt(2.0 / d) * np.cos(X @ omega + b)


def jax_loss(model: SoftmaxRegression):
    """The model's loss as a jax function of w (same conventions: SUM, class-major)."""
    import jax
    import jax.numpy as jnp

    X, Y = jnp.asarray(model.X), jnp.asarray(model.Y)
    F, D = model.n_free_classes, model.n_features

    def loss(w):
        z = X @ w.reshape(F, D).T
        if model.reference_class:
            z = jnp.concatenate([z, jnp.zeros((z.shape[0], 1))], axis=1)
        return -jnp.sum(Y * jax.nn.log_softmax(z, axis=1))

    return loss


def peak_memory(fn) -> int:
    """Peak bytes allocated (traced by tracemalloc) during ``fn()``, above what was held before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def _rel(a, b) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-300))


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"


def run(quick: bool = False, plots_dir: Path | None = None) -> Section:
    cfg = Config.quick() if quick else Config()
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    section = Section("models", "2. Models")
    rng = np.random.default_rng(7)

    # -- dense Hessian and hvp on the digits ------------------------------------------------------
    X, y = digits(cfg.n_examples)
    model = SoftmaxRegression(X[:, : cfg.n_pixels], y, n_classes=10)
    P = model.n_params
    w = rng.normal(0.0, 0.01, P)
    v = rng.normal(0.0, 1.0, P)
    loss = jax_loss(model)
    jax_hessian = jax.jit(jax.hessian(loss))
    jax_hvp = jax.jit(lambda w, v: jax.jvp(jax.grad(loss), (w,), (v,))[1])
    wj, vj = jnp.asarray(w), jnp.asarray(v)
    compile_h = time_once(lambda: jax_hessian(wj).block_until_ready())
    compile_v = time_once(lambda: jax_hvp(wj, vj).block_until_ready())
    def ours_one_blas_thread():
        with threadpool_limits(1):
            return model.hessian(w)

    t = interleaved({
        "ours_h": lambda: model.hessian(w),
        "ours_h1": ours_one_blas_thread,
        "jax_h": lambda: jax_hessian(wj).block_until_ready(),
        "ours_v": lambda: model.hvp(w, v),
        "jax_v": lambda: jax_hvp(wj, vj).block_until_ready(),
    }, reps=cfg.reps, min_rep_time=0.0)
    err_h = _rel(model.hessian(w), jax_hessian(wj))
    err_v = _rel(model.hvp(w, v), jax_hvp(wj, vj))
    ratio_h = t["ours_h"].median / t["jax_h"].median
    ratio_v = t["ours_v"].median / t["jax_v"].median
    shape = f"N={model.n_examples}, D={model.n_features}, K={model.n_classes}, P={P}"
    section.rows.append(Row("models", f"dense softmax Hessian vs jax.hessian ({shape}); max rel. diff {err_h:.1e}",
                            fmt_time(t["ours_h"].median), fmt_time(t["jax_h"].median), fmt_ratio(ratio_h),
                            f"≤ {TARGET_DENSE_RATIO:g}×", ratio_h <= TARGET_DENSE_RATIO))
    ratio_h1 = t["ours_h1"].median / t["jax_h"].median
    section.rows.append(Row("models", "same, with numpy's BLAS limited to one thread (threadpoolctl)",
                            fmt_time(t["ours_h1"].median), fmt_time(t["jax_h"].median), fmt_ratio(ratio_h1),
                            f"≤ {TARGET_DENSE_RATIO:g}×", ratio_h1 <= TARGET_DENSE_RATIO))
    section.rows.append(Row("models", f"Hessian-vector product vs jax jvp(grad); max rel. diff {err_v:.1e}",
                            fmt_time(t["ours_v"].median), fmt_time(t["jax_v"].median), fmt_ratio(ratio_v), "–", None))
    section.notes.append(f"jax compile (first call minus a steady call): Hessian "
                         f"{fmt_time(max(compile_h - t['jax_h'].median, 0))}, hvp "
                         f"{fmt_time(max(compile_v - t['jax_v'].median, 0))}; not in the ratios.")

    # -- Lanczos against dense eigvalsh as P grows --------------------------------------------------
    rows, sizes = [], []
    lanczos_t, lanczos_m, dense_t, dense_m = [], [], [], []
    X_all, y_all = digits(cfg.n_examples)
    for p in cfg.p_sizes:
        d = max(1, p // 10)
        m = SoftmaxRegression(random_features(X_all, d, rng), y_all, n_classes=10)
        wp = rng.normal(0.0, 0.1, m.n_params)
        op = m.hessian_operator(wp)

        def lanczos(op=op, m=m):
            return top_eigenpairs(op.matvec, m.n_params, cfg.k).values

        def dense(m=m, wp=wp):
            return np.linalg.eigvalsh(m.hessian(wp))[::-1][: cfg.k]

        fns = {"lanczos": lanczos}
        if m.n_params <= cfg.dense_max_p:
            fns["dense"] = dense
        times = interleaved(fns, reps=cfg.scaling_reps if m.n_params <= 1000 else 1, min_rep_time=0.0, warmup=0)
        mem_l = peak_memory(lanczos)
        mem_d = peak_memory(dense) if "dense" in fns else math.nan
        err = _rel(lanczos(), dense()) if "dense" in fns else math.nan
        sizes.append(m.n_params)
        lanczos_t.append(times["lanczos"].median)
        lanczos_m.append(mem_l)
        dense_t.append(times["dense"].median if "dense" in times else math.nan)
        dense_m.append(mem_d)
        rows.append([f"{m.n_params:,}", fmt_time(lanczos_t[-1]), fmt_time(dense_t[-1]),
                     fmt_ratio(dense_t[-1] / lanczos_t[-1]) if "dense" in fns else "–",
                     _fmt_bytes(mem_l), _fmt_bytes(mem_d) if "dense" in fns else "–",
                     f"{err:.1e}" if "dense" in fns else "–"])

    top = max(2, min(3, len(sizes)))  # fit on the largest sizes, where the P terms dominate
    exp_lt = fit_exponent(sizes[-top:], lanczos_t[-top:])
    exp_lm = fit_exponent(sizes[-top:], lanczos_m[-top:])
    dense_ok = [i for i, x in enumerate(dense_t) if math.isfinite(x)]
    top_d = dense_ok[-top:]
    exp_dt = fit_exponent([sizes[i] for i in top_d], [dense_t[i] for i in top_d]) if len(top_d) >= 2 else math.nan
    exp_dm = fit_exponent([sizes[i] for i in top_d], [dense_m[i] for i in top_d]) if len(top_d) >= 2 else math.nan
    section.details.append(
        f"Top-{cfg.k} eigenvalues of the softmax Hessian (N = {len(y_all)}, K = 10, D = P/10 random Fourier "
        "features of the digits): Lanczos (`top_eigenpairs` on `hessian_operator`, tol = machine precision) "
        "against forming H and calling `numpy.linalg.eigvalsh`. Peak memory: tracemalloc, above what was "
        "held before the call.\n\n" + markdown_table(
            ["P", "Lanczos time", "dense time", "dense / Lanczos", "Lanczos peak memory", "dense peak memory",
             "top-5 rel. diff"], rows)
        + f"\n\nFitted growth exponents over the {top} largest sizes (cost ∝ P^k): Lanczos time k = {exp_lt:.2f}, "
        f"memory k = {exp_lm:.2f}; dense time k = {exp_dt:.2f}, memory k = {exp_dm:.2f}.")
    section.rows.append(Row("models", f"Lanczos peak memory growth exponent in P (P = {sizes[-top]:,}–{sizes[-1]:,}); "
                            f"dense: {exp_dm:.2f}", f"P^{exp_lm:.2f}", "–", "–", "linear (≤ P^1.15)",
                            exp_lm <= TARGET_MEMORY_EXPONENT))
    section.rows.append(Row("models", f"Lanczos time growth exponent in P (dense: {exp_dt:.2f})", f"P^{exp_lt:.2f}",
                            "–", "–", "–", None))
    if dense_ok:
        i = dense_ok[-1]
        section.rows.append(Row("models", f"top-{cfg.k} eigenvalues at P = {sizes[i]:,}: Lanczos vs dense eigvalsh",
                                fmt_time(lanczos_t[i]), fmt_time(dense_t[i]), fmt_ratio(lanczos_t[i] / dense_t[i]),
                                "–", None))

    if plots_dir is not None:
        section.plots.append(loglog(plots_dir / "models.png", [
            ("Top-5 eigenvalues: time vs P", "parameters P", "seconds",
             {"Lanczos (hvp)": (sizes, lanczos_t), "dense H + eigvalsh": (sizes, dense_t)}),
            ("Peak memory vs P", "parameters P", "bytes",
             {"Lanczos (hvp)": (sizes, lanczos_m), "dense H + eigvalsh": (sizes, dense_m)}),
        ]))
    return section
