"""4. Parser: time for ``parse_function`` to accept or refuse each of a fixed corpus of hard inputs.

``parse_function`` parses, differentiates and compiles, so the time covers all the work a typed
text can cause. Each input runs cold (sympy's cache cleared) in a child process with a time-out,
so an input that hangs is reported instead of stopping the benchmark. The figure per input is
the median wall time of a few runs, with the CPU time of the same runs (less sensitive to other
processes on the machine). The target: every input answered in under 1 s.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from pathlib import Path

from benchmarks.report import Row, Section, markdown_table
from hessian_explorer.parsing import MAX_LENGTH, MAX_TOKENS

__all__ = ["run", "CORPUS"]

TARGET_SECONDS = 1.0
TIMEOUT = 60.0
_V10 = "abcdfghjkm"  # ten one-letter variables (no e: it is the constant)


def _nested(function: str, argument: str, depth: int) -> str:
    return f"{function}(" * depth + argument + ")" * depth


def _long_polynomial(tokens: int | None = None) -> str:
    """A polynomial of 8-token terms up to MAX_LENGTH characters (and ``tokens`` tokens, if given)."""
    terms: list[str] = []
    for k in range(1, 500):
        term = f"{(7 ** k) % 99_991}x^{k % 9}y^{(3 * k) % 7}"
        if len(" + ".join([*terms, term])) > MAX_LENGTH or (tokens and 8 * (len(terms) + 1) > tokens):
            break
        terms.append(term)
    return " + ".join(terms)


CORPUS: dict[str, str] = {
    # long polynomials
    "longest accepted polynomial": _long_polynomial(MAX_TOKENS),
    "polynomial of 1000 characters": _long_polynomial(),
    "polynomial in 3 variables": " + ".join(f"{k}x^{k % 5}y^{k % 4}z^{k % 3}" for k in range(1, 37)),
    "square of a 10-variable sum, ^8": "(" + "+".join(_V10) + ")^8",
    "product of 10 variables": " ".join(_V10),
    # deep nesting
    "40 parentheses": "(" * 40 + "x + y" + ")" * 40,
    "39 nested squares": "(" * 39 + "x + y" + ")^2" * 39,
    "39 nested sin": _nested("sin", "x*y", 39),
    "39 nested exp": _nested("exp", "x*y", 39),
    "39 nested sigmoid": _nested("sigmoid", "x*y", 39),
    "30 nested tanh": _nested("tanh", "x", 30),
    "30 nested asin": _nested("asin", "x", 30),
    "12 nested sin of 10 variables": _nested("sin", "*".join(_V10), 12),
    "19 nested LaTeX fractions": r"\frac{" * 19 + "x" + "}{y}" * 19,
    "40 unary minus signs": "-" * 40 + "x*y",
    # giant powers and numbers
    "(x + y)^1000": "(x + y)^1000",
    "x^1000 y^1000": "x^1000 y^1000",
    "(x + y + z)^60": "(x + y + z)^60",
    "power tower 9^9^9": "9^9^9 x",
    "power tower x^x^x^x^x": "x^x^x^x^x",
    "2^(10^6) x": "2^(10^6) x",
    "(x + 1)^(10^6)": "(x + 1)^(10^6)",
    "1e999999 x": "1e999999 x",
    "999-digit number": "9" * 999 + "x",
    "40 exp of products": " + ".join(f"exp({_V10[i % 10]}*{_V10[(i + 3) % 10]})" for i in range(40)),
    # hostile strings
    "python import": "__import__('os').system('echo hi')",
    "dunder walk": "().__class__.__bases__[0].__subclasses__()",
    "lambda": "lambda: x",
    "statement separator": "x; import os",
    "LaTeX input": r"\input{/etc/passwd}",
    "null byte": "x\x00y",
    "2000 characters": "x+" * 1000,
    "fullwidth letters": "ｘ^2 + ｙ",
    "unbalanced": "((((x+y)" + ")" * 50,
    "junk soup": "$#@!~`?<>|" * 20,
}


QUICK = ("product of 10 variables", "(x + y)^1000", "19 nested LaTeX fractions", "python import", "2000 characters")


def _time_one(text: str, repeats: int) -> tuple[list[float], list[float], str]:
    import sympy as sp

    from hessian_explorer import parse_function
    from hessian_explorer.parsing import ExpressionError

    walls, cpus, outcome = [], [], ""
    for _ in range(repeats):
        sp.core.cache.clear_cache()
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            parse_function(text)
            outcome = "accepted"
        except ExpressionError:
            outcome = "refused"
        except Exception as err:  # noqa: BLE001 - anything else is a bug worth reporting
            outcome = f"crashed: {type(err).__name__}"
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
    return walls, cpus, outcome


def _warm() -> None:
    from hessian_explorer import parse_function

    parse_function("x^2 + sin(y)")  # imports and first-use set-up are not part of the bound


def run(quick: bool = False, plots_dir: Path | None = None) -> Section:
    corpus = {k: CORPUS[k] for k in QUICK} if quick else CORPUS
    repeats = 1 if quick else 3
    section = Section("parser", "4. Parser")
    ctx = multiprocessing.get_context("spawn")
    results = {}
    pool = ctx.Pool(1)
    try:
        pool.apply(_warm)
        for name, text in corpus.items():
            job = pool.apply_async(_time_one, (text, repeats))
            try:
                walls, cpus, outcome = job.get(timeout=TIMEOUT * repeats)
                results[name] = (statistics.median(walls), statistics.median(cpus), outcome)
            except multiprocessing.TimeoutError:
                results[name] = (float("inf"), float("inf"), f"no answer in {TIMEOUT * repeats:.0f} s")
                pool.terminate()
                pool = ctx.Pool(1)
                pool.apply(_warm)
    finally:
        pool.terminate()

    rows = []
    for name, (wall, cpu, outcome) in sorted(results.items(), key=lambda kv: -kv[1][0]):
        flag = "" if wall < TARGET_SECONDS and not outcome.startswith(("crashed", "no answer")) else " **(!)**"
        rows.append([name, outcome, f"{wall:.3f} s{flag}", f"{cpu:.3f} s"])
    section.details.append(
        f"`parse_function` on each input, cold (sympy cache cleared), median of {repeats} run(s); slowest first. "
        "(!) marks an input over the 1 s target or one that did not end in acceptance or a clean refusal.\n\n"
        + markdown_table(["input", "outcome", "wall time", "CPU time"], rows))
    worst = max(results, key=lambda k: results[k][0])
    wall, cpu, _ = results[worst]
    over = [k for k, (w, _, _) in results.items() if w >= TARGET_SECONDS]
    crashed = [k for k, (_, _, o) in results.items() if o.startswith(("crashed", "no answer"))]
    section.rows.append(Row("parser", f"slowest of {len(results)} hard inputs to accept or refuse ({worst}; "
                            f"CPU {cpu:.2f} s); over 1 s: {len(over)}", f"{wall:.2f} s", "–", "–", "< 1 s",
                            wall < TARGET_SECONDS))
    section.rows.append(Row("parser", "inputs that crashed or hung instead of a clean refusal"
                            + (f" ({', '.join(crashed)})" if crashed else ""), str(len(crashed)), "–", "–", "0",
                            not crashed))
    if over:
        section.notes.append("Over the target: " + ", ".join(over) + ".")
    return section
