"""The error a refused formula raises, in a module of its own so that code which only catches it
(the page layer, the URL reader) does not import sympy."""

from __future__ import annotations

__all__ = ["ExpressionError"]


class ExpressionError(ValueError):
    """The text is not an expression Hessian Explorer will accept.

    The message names the problem, where it is (1-based ``column``, when there is one) and the
    way out. ``column`` is ``None`` for problems with the whole input.
    """

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message)
        self.column = column
