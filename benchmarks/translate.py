"""Sympy expressions to plain numeric functions, by walking the tree (no strings, no eval).

The benchmark needs each preset as a function that jax can differentiate (``jax.numpy``) and as
one numdifftools can call (``numpy``). :func:`to_function` builds it from the sympy tree node by
node: ``Add``, ``Mul``, ``Pow``, numbers and constants, the elementary functions the parser
accepts, and the project's own ``sigmoid`` and ``softplus``. A node it does not know raises
``TypeError`` naming it, rather than being translated wrongly.

>>> import sympy as sp, numpy as np
>>> x, y = sp.symbols("x y")
>>> f = to_function(sp.exp(x) * y**2 + sp.sin(y), (x, y), NUMPY)
>>> round(float(f(np.array([0.0, 2.0]))), 6)
4.909297
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from typing import Callable, Sequence

import numpy as np
import sympy as sp

from hessian_explorer.special import sigmoid, softplus

__all__ = ["Backend", "NUMPY", "jax_backend", "to_function"]


@dataclass(frozen=True)
class Backend:
    """The array operations a translated function is built from."""

    functions: dict[type, Callable]  # sympy function class -> elementwise implementation
    integer_pow: Callable  # (base, int) -> base ** int
    power: Callable  # (base, exponent) -> base ** exponent (real exponent)
    sqrt: Callable


def _np_sigmoid(x):
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


NUMPY = Backend(
    functions={
        sp.sin: np.sin, sp.cos: np.cos, sp.tan: np.tan, sp.asin: np.arcsin, sp.acos: np.arccos,
        sp.atan: np.arctan, sp.sinh: np.sinh, sp.cosh: np.cosh, sp.tanh: np.tanh, sp.exp: np.exp,
        sp.log: np.log, sp.Abs: np.abs, sigmoid: _np_sigmoid, softplus: lambda x: np.logaddexp(0.0, x),
    },
    integer_pow=lambda b, k: b ** k,
    power=np.power,
    sqrt=np.sqrt,
)


def jax_backend() -> Backend:
    """The ``jax.numpy`` backend (imported on demand: jax is a benchmark-only dependency)."""
    import jax
    import jax.numpy as jnp

    return Backend(
        functions={
            sp.sin: jnp.sin, sp.cos: jnp.cos, sp.tan: jnp.tan, sp.asin: jnp.arcsin,
            sp.acos: jnp.arccos, sp.atan: jnp.arctan, sp.sinh: jnp.sinh, sp.cosh: jnp.cosh,
            sp.tanh: jnp.tanh, sp.exp: jnp.exp, sp.log: jnp.log, sp.Abs: jnp.abs,
            sigmoid: jax.nn.sigmoid, softplus: jax.nn.softplus,
        },
        integer_pow=jax.lax.integer_pow,
        power=jnp.power,
        sqrt=jnp.sqrt,
    )


def _build(expr: sp.Basic, index: dict[sp.Symbol, int], xp: Backend) -> Callable:
    """A function of the point vector ``v`` computing ``expr``."""
    if expr.is_Symbol:
        i = index[expr]
        return lambda v: v[..., i]
    if expr.is_Number or isinstance(expr, sp.NumberSymbol):
        c = float(expr)
        return lambda v: c
    if isinstance(expr, (sp.Add, sp.Mul)):
        parts = [_build(a, index, xp) for a in expr.args]
        combine = (lambda a, b: a + b) if isinstance(expr, sp.Add) else (lambda a, b: a * b)
        return lambda v: reduce(combine, (p(v) for p in parts))
    if isinstance(expr, sp.Pow):
        base, exponent = expr.args
        b = _build(base, index, xp)
        if exponent.is_Integer:
            k = int(exponent)
            return lambda v: xp.integer_pow(b(v), k)
        if exponent == sp.S.Half:
            return lambda v: xp.sqrt(b(v))
        if exponent == -sp.S.Half:
            return lambda v: 1.0 / xp.sqrt(b(v))
        e = _build(exponent, index, xp)
        return lambda v: xp.power(b(v), e(v))
    if isinstance(expr, sp.Function) and type(expr) in xp.functions and len(expr.args) == 1:
        fn, arg = xp.functions[type(expr)], _build(expr.args[0], index, xp)
        return lambda v: fn(arg(v))
    raise TypeError(f"no translation for sympy node {type(expr).__name__} in {expr}")


def to_function(expr: sp.Expr, symbols: Sequence[sp.Symbol], backend: Backend) -> Callable:
    """``f(v)`` computing ``expr`` at ``v`` of shape ``(..., n)`` (last axis in ``symbols`` order)."""
    return _build(expr, {s: i for i, s in enumerate(symbols)}, backend)
