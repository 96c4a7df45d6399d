"""Fused kernels: the numpy kernels' three-address code run point by point in one compiled loop.

A kernel from :mod:`hessian_explorer.kernels` makes one pass over memory per numpy call; cheap
polynomials spend most of their time there (himmelblau's gradient: 14 passes). :func:`fuse`
translates the same statements, in the same order, into the body of a loop over the points and
compiles it with numba, so every intermediate value stays in a register. The arithmetic is the
same operations in the same order, so the results are the same numbers, except that ``sin``,
``log`` and the other functions come from the C library instead of numpy's own loops, and ``exp``
from :mod:`hessian_explorer._fastexp`, one LLVM can vectorise (these can differ in the last bit).

Opt-in and optional: numba is not a requirement of the app (compiling costs 0.1 to 0.5 s per
kernel, more than the app's grids take to evaluate with numpy). ``Function.compile(fused=True)``
fuses a function's kernels for notebooks and large batches; :func:`kernels.evaluate` then runs the
fused loop, shared between threads for large batches, with the same result contract: non-finite
entries are ``nan`` and no floating-point warning escapes.

The compiled source, like the numpy kernels', holds only internal names (``w0``, ``t3``, ``o2``,
the ufuncs below) and float literals.
"""

from __future__ import annotations

import functools
import importlib
import math
import re
from typing import Callable

import numpy as np

__all__ = ["fuse", "loop_source"]

# One statement of a numpy kernel (see kernels._Emitter), and its scalar translation.
_NAME = r"[wto]\d+"
_OPERAND = rf"(?:{_NAME}|_nan|_inf|\(-_inf\)|-?[0-9][0-9.e+-]*)"
_STATEMENTS = (
    (re.compile(rf"_copyto\(({_NAME}), ({_OPERAND})\)"), r"\1 = \2"),
    (re.compile(rf"_copyto\(({_NAME}), (_sigmoid|_softplus)\(({_OPERAND})\)\)"), r"\1 = \2(\3)"),
    (re.compile(rf"({_NAME})\.fill\(({_OPERAND})\)"), r"\1 = \2"),
    (re.compile(rf"(_[a-z]+)\(({_OPERAND}(?:, {_OPERAND})?), out=({_NAME})\)"), r"\3 = \1(\2)"),
)
# numpy's ufuncs on scalars in numba; everything else (arithmetic) is an ufunc too, so a
# statement means what it means in the numpy kernel.
_UFUNCS = ("add", "subtract", "multiply", "divide", "negative", "power", "sin", "cos", "tan", "arcsin",
           "arccos", "arctan", "sinh", "cosh", "tanh", "log", "absolute", "sign", "sqrt")  # exp: _fastexp
_SIGNATURE = "void(float64[:, ::1], float64[:, ::1], int64, int64)"


class _CannotFuse(Exception):
    """A statement outside the fused translation's grammar: the kernel stays a numpy kernel."""


def _translate(statement: str) -> str:
    for pattern, replacement in _STATEMENTS:
        if pattern.fullmatch(statement):
            return pattern.sub(replacement, statement)
    raise _CannotFuse(statement)


def loop_source(statements: tuple[str, ...], n: int, rows: tuple[int, ...]) -> str:
    """The fused loop ``_fused(X, O, lo, hi)``: points ``X[lo:hi]`` (``(N, n)``) into the table
    rows ``rows`` of ``O`` (``(rows, N)``), non-finite results as ``nan``."""
    body = [_translate(s) for s in statements]
    assigned = {m for line in body for m in re.findall(rf"^({_NAME}) =", line)}
    if any(f"o{r}" not in assigned for r in rows):
        raise _CannotFuse("a row the kernel writes is not assigned")
    # Flat input with a literal stride and one view per row: the form LLVM vectorises (four
    # points per instruction with AVX2; indexing X[i, k] directly keeps it scalar, 2.5x slower).
    lines = ["def _fused(X, O, lo, hi):", "    x = X[lo:hi].ravel()"]
    lines += [f"    r{r} = O[{r}, lo:hi]" for r in rows]
    lines += ["    for i in range(hi - lo):"]
    lines += [f"        w{k} = x[{n} * i + {k}]" for k in range(n)]
    lines += [f"        {line}" for line in body]
    lines += [f"        r{r}[i] = o{r} if abs(o{r}) < _inf else _nan" for r in rows]
    return "\n".join(lines) + "\n"


@functools.cache
def _namespace() -> dict:
    import numba

    from hessian_explorer._fastexp import exp

    @numba.njit(nogil=True, error_model="numpy")
    def sigmoid(x):  # as special.np_sigmoid, one point at a time
        z = exp(-abs(x))
        return 1.0 / (1.0 + z) if x >= 0 else z / (1.0 + z)

    @numba.njit(nogil=True, error_model="numpy")
    def softplus(x):  # as special.np_softplus
        return np.maximum(x, 0.0) + math.log1p(exp(-abs(x)))

    return {**{f"_{name}": getattr(np, name) for name in _UFUNCS}, "_exp": exp,
            "_sigmoid": sigmoid, "_softplus": softplus, "_inf": math.inf, "_nan": math.nan}


@functools.lru_cache(maxsize=256)
def _compile(source: str) -> Callable:
    """Compile a fused loop (cached by its source: the same function parsed twice compiles once)."""
    import numba

    namespace = dict(_namespace())
    exec(compile(source, "<hessian_explorer fused kernel>", "exec"), namespace)  # noqa: S102 - generated text
    return numba.njit(_SIGNATURE, nogil=True, error_model="numpy", boundscheck=False)(namespace["_fused"])


def fuse(kernel: Callable) -> bool:
    """Attach a compiled loop to a numpy kernel from :mod:`hessian_explorer.kernels`.

    Afterwards :func:`kernels.evaluate` runs the loop (``kernel.fused``) instead of the numpy
    calls. Returns whether the kernel is fused: a kernel from the lambdify fallback, or one whose
    every row is a constant, stays as it is. Raises :class:`ImportError` without numba.
    """
    if getattr(kernel, "fused", None) is not None:
        return True
    try:
        importlib.import_module("numba")
    except ImportError as err:
        raise ImportError("fused kernels need numba: pip install numba "
                          "(or pip install 'hessian-explorer[fused]')") from err
    layout, statements = kernel.layout, getattr(kernel, "statements", None)
    rows = tuple(r for r in range(layout.rows) if r not in layout.constants)
    if statements is None or not rows:
        return False
    try:
        kernel.fused = _compile(loop_source(statements, layout.n, rows))
    except _CannotFuse:
        return False
    return True
