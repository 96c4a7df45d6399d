"""Imported once by the sandbox's fork server so every forked worker starts warm.

The first ``parse_function`` in a process pays for lazy imports and caches inside sympy and its
code printers; doing it here, before forking, keeps each sandboxed check to the work itself.
"""

from hessian_explorer.calculus import parse_function

parse_function("sin(x) y + exp(x)/y + x^2 + sqrt(abs(x)) + log(1 + y^2) + sigmoid(x y)")
