"""Special functions for models, with exact derivatives and numerically stable numpy versions.

``sigmoid(x) = 1 / (1 + exp(-x))`` and ``softplus(x) = log(1 + exp(x))`` are sympy functions in
their own right (not expanded), so their derivatives stay short and readable:
``sigmoid' = sigmoid (1 - sigmoid)`` and ``softplus' = sigmoid``. The numpy versions never
overflow: they branch on the sign of ``x``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

__all__ = ["sigmoid", "softplus", "np_sigmoid", "np_softplus"]


class sigmoid(sp.Function):  # noqa: N801 - sympy functions are lower case
    """The logistic function ``1 / (1 + exp(-x))``.

    >>> from sympy import Symbol
    >>> x = Symbol("x")
    >>> sigmoid(x).diff(x)
    (1 - sigmoid(x))*sigmoid(x)
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = sigmoid(self.args[0])
        return s * (1 - s)

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_zero:
            return sp.Rational(1, 2)
        return None

    def _eval_rewrite_as_exp(self, arg: sp.Expr, **kwargs) -> sp.Expr:
        return 1 / (1 + sp.exp(-arg))

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _latex(self, printer) -> str:
        return r"\sigma\left(%s\right)" % printer._print(self.args[0])


class softplus(sp.Function):  # noqa: N801
    """``log(1 + exp(x))``, a smooth ReLU; its derivative is ``sigmoid(x)``.

    >>> from sympy import Symbol
    >>> x = Symbol("x")
    >>> softplus(x).diff(x)
    sigmoid(x)
    """

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sigmoid(self.args[0])

    @classmethod
    def eval(cls, arg: sp.Expr) -> sp.Expr | None:
        if arg.is_zero:
            return sp.log(2)
        return None

    def _eval_rewrite_as_exp(self, arg: sp.Expr, **kwargs) -> sp.Expr:
        return sp.log(1 + sp.exp(arg))

    def _eval_evalf(self, prec: int) -> sp.Expr:
        return self.rewrite(sp.exp)._eval_evalf(prec)

    def _eval_is_real(self) -> bool | None:
        return self.args[0].is_real

    def _latex(self, printer) -> str:
        return r"\operatorname{softplus}\left(%s\right)" % printer._print(self.args[0])


def np_sigmoid(x):
    """Stable elementwise logistic function: never overflows, exact at both tails."""
    x = np.asarray(x, dtype=float)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))


def np_softplus(x):
    """Stable elementwise ``log(1 + exp(x))``: ``max(x, 0) + log1p(exp(-|x|))``."""
    x = np.asarray(x, dtype=float)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
