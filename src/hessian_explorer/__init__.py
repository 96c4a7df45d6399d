"""Hessian Explorer: exact gradients, Hessians and curvature of typed functions and models.

The names below are imported on first use (PEP 562), so ``import hessian_explorer.ui.layout`` or a
model page does not pay for sympy; ``from hessian_explorer import parse_function`` works as usual.
"""

from __future__ import annotations

import importlib

__all__ = [
    "parse_function",
    "Function",
    "Evaluation",
    "ExpressionError",
    "PointAnalysis",
    "Definiteness",
    "Verdict",
    "analyze_point",
]

_HOME = {
    "parse_function": "calculus", "Function": "calculus", "Evaluation": "calculus",
    "ExpressionError": "errors",
    "PointAnalysis": "analysis", "Definiteness": "analysis", "Verdict": "analysis", "analyze_point": "analysis",
}


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
