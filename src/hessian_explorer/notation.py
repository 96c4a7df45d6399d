"""Unicode sub- and superscripts for parameter names on axes and in tables (θ₃, ω⁽²⁾₁₂).

Plotly tick labels and Streamlit tables cannot render LaTeX, so parameter names use Unicode.
"""

from __future__ import annotations

__all__ = ["subscript", "superscript", "theta_label", "omega_label"]

_SUB = str.maketrans("0123456789-", "₀₁₂₃₄₅₆₇₈₉₋")
_SUP = str.maketrans("0123456789-()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁽⁾")


def subscript(n: int | str) -> str:
    """``subscript(12) == '₁₂'``: digits and minus signs as Unicode subscripts."""
    return str(n).translate(_SUB)


def superscript(n: int | str) -> str:
    """``superscript(2) == '²'``; parentheses are kept as superscript parentheses."""
    return str(n).translate(_SUP)


def theta_label(i: int) -> str:
    """``theta_label(3) == 'θ₃'`` (parameters counted from 0, as the columns of Φ)."""
    return "θ" + subscript(i)


def omega_label(k: int, d: int) -> str:
    """``omega_label(2, 3) == 'ω⁽²⁾₃'``: class k's weight on feature d (both counted from 1).

    >>> omega_label(2, 3)
    'ω⁽²⁾₃'
    """
    return "ω" + superscript(f"({k})") + subscript(d)
