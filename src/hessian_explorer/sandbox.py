"""A hard wall-clock limit on the symbolic work one untrusted input can cause.

Parsing is bounded by construction (see :mod:`hessian_explorer.parsing`); this is the second line
of defence. The whole of ``parse_function`` (parse, derivatives, compiled evaluators) first runs in
a worker process that is killed when the limit passes. Streamlit runs scripts in threads, where
``signal.alarm`` does not work; a process can always be killed.

Workers are forked from a ``forkserver`` that has already imported the package, so a check costs
milliseconds plus the work itself. Only an input that finished in the worker is then parsed in the
calling process (which therefore also finishes quickly).
"""

from __future__ import annotations

import multiprocessing as mp
import threading
from multiprocessing.connection import Connection
from typing import Any, Callable, Sequence

from hessian_explorer.calculus import Function, parse_function
from hessian_explorer.parsing import ExpressionError

__all__ = ["WorkTimeout", "run_with_timeout", "checked_parse_function", "DEFAULT_LIMIT"]

DEFAULT_LIMIT = 1.5  # seconds of wall-clock time for the symbolic work of one input

_context_lock = threading.Lock()
_context: Any = None


class WorkTimeout(TimeoutError):
    """The work did not finish within its wall-clock limit (the worker was killed)."""


def _mp_context():
    global _context
    with _context_lock:
        if _context is None:
            methods = mp.get_all_start_methods()
            _context = mp.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                _context.set_forkserver_preload(["hessian_explorer._preload"])
        return _context


def _worker(conn: Connection, fn: Callable, args: tuple) -> None:
    try:
        conn.send(("ok", fn(*args)))
    except BaseException as err:  # noqa: BLE001 - report everything to the parent
        conn.send(("error", (type(err).__name__, str(err))))
    finally:
        conn.close()


def run_with_timeout(fn: Callable, args: tuple = (), limit: float = DEFAULT_LIMIT) -> Any:
    """Run picklable ``fn(*args)`` in a fresh worker process; kill it after ``limit`` seconds.

    Returns ``fn``'s (picklable) result. Raises :class:`WorkTimeout` on timeout and
    ``RuntimeError(kind, message)`` when ``fn`` raised (the exception type name and message).
    """
    ctx = _mp_context()
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_worker, args=(child, fn, args), daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(limit):
            raise WorkTimeout(f"the work took longer than {limit:g} s and was stopped")
        status, payload = parent.recv()
    except EOFError:
        raise RuntimeError("WorkerDied", "the worker process ended without an answer") from None
    finally:
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)
    if status == "error":
        raise RuntimeError(*payload)
    return payload


def _probe(text: str, variables: tuple[str, ...] | None) -> bool:
    parse_function(text, variables)
    return True


def checked_parse_function(text: str, variables: Sequence[str] | None = None,
                           limit: float = DEFAULT_LIMIT) -> Function:
    """:func:`parse_function` under a hard wall-clock limit, for untrusted text.

    Raises :class:`ExpressionError` for refused input and for input whose symbolic work would
    exceed ``limit`` seconds (a friendly message either way).
    """
    variables = tuple(variables) if variables is not None else None
    try:
        run_with_timeout(_probe, (text, variables), limit)
    except WorkTimeout:
        raise ExpressionError(
            f"this expression takes too long to differentiate (over {limit:g} s); simplify it"
        ) from None
    except RuntimeError as err:
        kind, message = (err.args + ("",))[:2]
        if kind == "ExpressionError":
            raise ExpressionError(message) from None
        raise ExpressionError(f"this expression could not be processed ({kind}); try a simpler form") from None
    return parse_function(text, variables)
