"""Hessian Explorer: exact gradients, Hessians and curvature of typed functions and models."""

from hessian_explorer.analysis import Definiteness, PointAnalysis, Verdict, analyze_point
from hessian_explorer.calculus import Evaluation, Function, parse_function
from hessian_explorer.parsing import ExpressionError

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
