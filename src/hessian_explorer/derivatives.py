"""Exact first derivatives of parsed expressions, by the sum, product, power and chain rules.

``sympy.diff`` goes through ``Derivative``'s general machinery for every node and rebuilds
products pairwise; for the Hessian of a typed function that is most of the time a user waits.
:class:`Differentiator` applies the rules directly to the node types the parser produces and
remembers every ``(subtree, variable)`` it has seen, so the ``n (n + 1) / 2`` Hessian entries
share the work of their common subtrees. Anything else falls back to ``sympy.diff``.

Convention (the one stated in :mod:`hessian_explorer.calculus`): at a kink the Dirac delta is
dropped, so the derivative of ``sign(u)`` is 0 for real ``u``.
"""

from __future__ import annotations

import sympy as sp

from hessian_explorer.special import sigmoid, softplus

__all__ = ["Differentiator", "drop_dirac_delta"]

# One-argument functions differentiated by the chain rule, f(u)' = f'(u) u', with f' from fdiff.
_CHAIN_RULE = (sp.sin, sp.cos, sp.tan, sp.asin, sp.acos, sp.atan, sp.sinh, sp.cosh, sp.tanh,
               sp.exp, sp.log, sigmoid, softplus)


def drop_dirac_delta(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every ``DiracDelta`` replaced by 0 (the convention at kinks)."""
    return expr.replace(sp.DiracDelta, lambda *a: sp.S.Zero) if expr.has(sp.DiracDelta) else expr


class Differentiator:
    """``d(expr, x)``: the exact derivative of ``expr`` with respect to the symbol ``x``.

    Results are memoised per instance; use one instance for the derivatives of one function.

    >>> x, y = sp.symbols("x y", real=True)
    >>> d = Differentiator()
    >>> d(x**2 * sp.sin(x * y), x)
    x**2*y*cos(x*y) + 2*x*sin(x*y)
    """

    def __init__(self) -> None:
        self._derivatives: dict[tuple[sp.Expr, sp.Symbol], sp.Expr] = {}
        self._symbols: dict[sp.Expr, frozenset] = {}

    def free_symbols(self, expr: sp.Expr) -> frozenset:
        """``expr.free_symbols``, memoised (sympy recomputes it over the whole tree on each call)."""
        found = self._symbols.get(expr)
        if found is None:
            if expr.is_Symbol:
                found = frozenset((expr,))
            elif not expr.args:
                found = frozenset()
            else:
                found = frozenset().union(*(self.free_symbols(a) for a in expr.args))
            self._symbols[expr] = found
        return found

    def __call__(self, expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
        key = (expr, x)
        found = self._derivatives.get(key)
        if found is None:
            found = self._derivatives[key] = self._rule(expr, x)
        return found

    def _rule(self, expr: sp.Expr, x: sp.Symbol) -> sp.Expr:
        if x not in self.free_symbols(expr):
            return sp.S.Zero
        if expr == x:
            return sp.S.One
        if expr.is_Add:
            return sp.Add(*(self(a, x) for a in expr.args))
        if expr.is_Mul:
            args = expr.args
            return sp.Add(*(sp.Mul(*args[:i], self(a, x), *args[i + 1:])
                            for i, a in enumerate(args) if x in self.free_symbols(a)))
        if expr.is_Pow:
            base, exponent = expr.args
            if x not in self.free_symbols(exponent):
                return sp.Mul(exponent, sp.Pow(base, exponent - 1), self(base, x))
            if x not in self.free_symbols(base):
                return sp.Mul(expr, sp.log(base), self(exponent, x))
            return expr * (self(exponent, x) * sp.log(base) + self(base, x) * exponent / base)
        if len(expr.args) == 1:
            arg = expr.args[0]
            if isinstance(expr, _CHAIN_RULE):
                return sp.Mul(expr.fdiff(1), self(arg, x))
            if isinstance(expr, sp.Abs) and arg.is_extended_real:
                return sp.Mul(sp.sign(arg), self(arg, x))
            if isinstance(expr, sp.sign) and arg.is_extended_real:
                return sp.S.Zero
        return drop_dirac_delta(sp.diff(expr, x))
