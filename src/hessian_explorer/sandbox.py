"""A hard wall-clock limit on the symbolic work one untrusted input can cause.

Parsing is bounded by construction (see :mod:`hessian_explorer.parsing`); this is the second line
of defence. The whole of ``parse_function`` (parse, derivatives, compiled evaluators) first runs in
a worker process, which is killed (and replaced) when the limit passes. Streamlit runs scripts in
threads, where ``signal.alarm`` does not work; a process can always be killed.

Workers are clean interpreters (``python -m hessian_explorer.sandbox``), started once, warmed up,
and reused: a check costs about the work itself. Only the work counts against the limit, not a
worker's start-up. Requests and answers are length-prefixed pickles over the worker's pipes
(pickles only ever pass between this process and its own workers; user text is just a string
inside them).
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Sequence

from hessian_explorer.errors import ExpressionError

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function

__all__ = ["WorkTimeout", "run_with_timeout", "probe", "checked_parse_function", "DEFAULT_LIMIT", "MAX_WORKERS"]

DEFAULT_LIMIT = 1.0  # seconds of wall-clock time for the symbolic work of one input (bounded work: ~0.25 s)
MAX_WORKERS = 2  # concurrent checks; more requests wait for a free worker
START_TIMEOUT = 60.0  # seconds a new worker may take to import and warm up
_HEADER = struct.Struct("!Q")


class WorkTimeout(TimeoutError):
    """The work did not finish within its wall-clock limit (the worker was killed)."""


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            remaining = deadline - _now()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise WorkTimeout("no answer in time")
        chunk = os.read(fd, n - got)
        if not chunk:
            raise EOFError
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _now() -> float:
    return time.monotonic()


def _send(stream, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(fd: int, deadline: float | None) -> Any:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, size, deadline))


class _Worker:
    """One warm worker process and its pipes."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hessian_explorer.sandbox"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        if _receive(self.proc.stdout.fileno(), _now() + START_TIMEOUT) != "ready":
            raise RuntimeError("WorkerDied", "the worker did not start")

    def call(self, fn: Callable, args: tuple, limit: float) -> tuple[str, Any]:
        _send(self.proc.stdin, (fn, args))
        return _receive(self.proc.stdout.fileno(), _now() + limit)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


class _Pool:
    """At most ``MAX_WORKERS`` warm workers shared by all threads of this process."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._count = 0
        self._cond = threading.Condition()

    def acquire(self) -> _Worker:
        with self._cond:
            while not self._idle and self._count >= MAX_WORKERS:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return _Worker()
        except BaseException:
            self._discard()
            raise

    def release(self, worker: _Worker) -> None:
        with self._cond:
            self._idle.append(worker)
            self._cond.notify()

    def _discard(self) -> None:
        with self._cond:
            self._count -= 1
            self._cond.notify()

    def discard(self, worker: _Worker) -> None:
        """Kill ``worker`` and start its replacement in the background."""
        worker.kill()
        threading.Thread(target=self._replace, daemon=True, name="sandbox-replace").start()

    def _replace(self) -> None:
        try:
            fresh = _Worker()
        except BaseException:  # noqa: BLE001 - the next acquire() will try again
            self._discard()
            return
        self.release(fresh)


_POOL = _Pool()


def run_with_timeout(fn: Callable, args: tuple = (), limit: float = DEFAULT_LIMIT) -> Any:
    """Run ``fn(*args)`` in a warm worker process; kill the worker after ``limit`` seconds.

    ``fn`` must be importable by name (a module-level function or builtin) and its result
    picklable. Raises :class:`WorkTimeout` on timeout and ``RuntimeError(kind, message)`` when
    ``fn`` raised (its exception type name and message) or the worker died.
    """
    worker = _POOL.acquire()
    try:
        status, payload = worker.call(fn, args, limit)
    except WorkTimeout:
        _POOL.discard(worker)
        raise WorkTimeout(f"the work took longer than {limit:g} s and was stopped") from None
    except (EOFError, OSError, pickle.UnpicklingError):
        _POOL.discard(worker)
        raise RuntimeError("WorkerDied", "the worker process ended without an answer") from None
    _POOL.release(worker)
    if status == "error":
        raise RuntimeError(*payload)
    return payload


def _probe(text: str, variables: tuple[str, ...] | None) -> bool:
    from hessian_explorer.calculus import parse_function

    parse_function(text, variables)
    return True


def probe(text: str, variables: Sequence[str] | None = None, limit: float = DEFAULT_LIMIT) -> None:
    """Check that ``parse_function(text, variables)`` is accepted and finishes within ``limit``.

    Raises :class:`ExpressionError` for refused input and for input whose symbolic work would
    exceed ``limit`` seconds (a friendly message either way); returns ``None`` otherwise.
    """
    variables = tuple(variables) if variables is not None else None
    try:
        run_with_timeout(_probe, (text, variables), limit)
    except WorkTimeout:
        raise ExpressionError(
            f"this expression takes too long to differentiate (over {limit:g} s); simplify it"
        ) from None
    except RuntimeError as err:
        kind, message = (tuple(err.args) + ("", ""))[:2]
        if kind == "ExpressionError":
            raise ExpressionError(message) from None
        raise ExpressionError(f"this expression could not be processed ({kind}); try a simpler form") from None


def checked_parse_function(text: str, variables: Sequence[str] | None = None,
                           limit: float = DEFAULT_LIMIT) -> Function:
    """:func:`parse_function` for untrusted text: :func:`probe` first, then parse here."""
    probe(text, variables, limit)
    from hessian_explorer.calculus import parse_function

    return parse_function(text, tuple(variables) if variables is not None else None)


def _serve() -> None:
    """Worker main loop: read ``(fn, args)`` frames from stdin, answer on stdout."""
    import hessian_explorer._preload  # noqa: F401  (warm sympy and the code printers)

    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the protocol
    fd = sys.stdin.buffer.fileno()
    _send(out, "ready")
    while True:
        try:
            fn, args = _receive(fd, None)
        except EOFError:
            return
        try:
            _send(out, ("ok", fn(*args)))
        except BaseException as err:  # noqa: BLE001 - report everything to the parent
            _send(out, ("error", (type(err).__name__, str(err))))


if __name__ == "__main__":
    _serve()
