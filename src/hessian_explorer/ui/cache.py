"""Caches in the page layer: compiled functions are shared resources, sampled arrays are data.

Keys are hashable primitives (the expression text, variable names, plane fields), so every
session with the same view shares one entry. Sizes are bounded for a public server.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import TYPE_CHECKING

import streamlit as st

from hessian_explorer.critical import CriticalPoint, find_critical_points
from hessian_explorer.errors import ExpressionError
from hessian_explorer.plane import Field, Plane, sample
from hessian_explorer.presets import PRESETS
from hessian_explorer.sandbox import probe

if TYPE_CHECKING:  # sympy is imported only where a formula is parsed
    from hessian_explorer.calculus import Function


# Trusted texts, with their variables or without (the formula box passes none): a preset's text
# never needs the sandbox, so the default and preset views cannot be refused on a busy server.
_PRESET_TEXTS = frozenset(p.text for p in PRESETS)


@st.cache_resource(max_entries=1024, show_spinner=False)
def _probe(text: str) -> bool:
    """Run the symbolic work of ``text`` once in the sandbox (hard time limit); cached by text."""
    probe(text)
    return True


@st.cache_resource(max_entries=512, show_spinner=False)
def load_function(text: str, variables: tuple[str, ...] | None = None) -> Function:
    """Parse and compile once per distinct text, shared by all sessions.

    Presets are trusted; any other text is first checked in the sandbox
    (:mod:`hessian_explorer.sandbox`), once per text whatever the variables. Raises
    ``ExpressionError`` (errors are not cached).
    """
    if text not in _PRESET_TEXTS:
        _probe(text)
    from hessian_explorer.calculus import parse_function  # sympy: only once a function is needed

    return parse_function(text, variables)


def _warm_up_worker() -> None:
    try:
        probe("x")
    except ExpressionError:  # a slow first start on a busy machine; the next check will wait for it
        pass


# Seconds between the first page's end and this background work: meanwhile Streamlit sends
# "finished" and collects the run's garbage, and the browser draws the page (on a laptop that
# runs both, its 1-2 s of drawing would share the cores with the worker's start-up, measured).
_BACKGROUND_DELAY = 3.0


@st.cache_resource(show_spinner=False)
def warm_sandbox() -> threading.Thread:
    """Once per process, after the first page: freeze the heap built so far, then start a
    sandbox worker, in a background thread.

    Streamlit runs a full garbage collection after every script run (``runner.postScriptGC``).
    Without the freeze, each one rescans every object of streamlit, sympy, numpy and plotly,
    which live as long as the process: measured by the load test, that was as much CPU as the
    page itself. ``gc.freeze`` moves the objects that exist now out of the collector's reach.
    The thread first waits for the page to be sent and drawn (a full collection takes 0.09 s and
    a worker's start-up 0.8 s of CPU, which the first visitor's page would otherwise wait for),
    then collects what is left of that run's garbage and freezes the rest. A function typed
    before then starts its own worker.
    """
    thread = threading.Thread(target=_freeze_and_warm_up, daemon=True, name="sandbox-warmup")
    thread.start()
    return thread


def _freeze_and_warm_up() -> None:
    time.sleep(_BACKGROUND_DELAY)
    gc.collect()
    gc.freeze()
    _warm_up_worker()


def _plane(base, ix, iy, x_range, y_range, density) -> Plane:
    return Plane(tuple(base), ix, iy, tuple(x_range), tuple(y_range), density)


@st.cache_data(max_entries=256, show_spinner=False)
def field(text: str, variables: tuple[str, ...], base: tuple[float, ...], ix: int, iy: int,
          x_range: tuple[float, float], y_range: tuple[float, float], density: int) -> Field:
    return sample(load_function(text, variables), _plane(base, ix, iy, x_range, y_range, density))


@st.cache_data(max_entries=256, show_spinner=False)
def critical_points(text: str, variables: tuple[str, ...], base: tuple[float, ...], ix: int, iy: int,
                    x_range: tuple[float, float], y_range: tuple[float, float]) -> list[CriticalPoint]:
    if len(variables) < 2:
        return []
    return find_critical_points(load_function(text, variables), _plane(base, ix, iy, x_range, y_range, 10))


def field_for(text: str, variables: tuple[str, ...], plane: Plane, density: int | None = None) -> Field:
    """The cached :class:`Field` of a plane (optionally at another density)."""
    return field(text, variables, plane.base, plane.ix, plane.iy, plane.x_range, plane.y_range,
                 density or plane.density)


def critical_points_for(text: str, variables: tuple[str, ...], plane: Plane) -> list[CriticalPoint]:
    # Other coordinates matter only for n > 2: keep them out of the key otherwise.
    base = plane.base if plane.n > 2 else (0.0,) * plane.n
    return critical_points(text, variables, base, plane.ix, plane.iy, plane.x_range, plane.y_range)
