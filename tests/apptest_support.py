"""What the AppTest page tests share: opening the app (or one page of it) and reading what it shows.

Charts are read from the plotly JSON Streamlit sends, whichever way a chart is drawn
(``hessian_explorer.ui.charts``: the cartesian bundle's component, or ``st.plotly_chart``); plotly
writes numpy arrays there as base64 typed arrays, which ``array`` turns back into numpy.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def open_app(query: dict | None = None, page: str | None = None, *, timeout: float = 60) -> AppTest:
    """A fresh session of app.py, run once with ``query`` as its query string, then switched to ``page``."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    if query:
        at.query_params.update(query)
    at.run()
    return at.switch_page(page).run() if page else at


def metric(at: AppTest, label: str) -> str:
    """The value of the one metric labelled ``label`` (fails if there is none or more than one)."""
    (found,) = [m.value for m in at.metric if m.label == label]
    return found


def first_metric(at: AppTest, label: str) -> str:
    """The value of the first metric labelled ``label``."""
    return next(m.value for m in at.metric if m.label == label)


def tables(at: AppTest) -> list[list[list[str]]]:
    """Every Markdown table on the page (``layout.table``), as data rows of cells (header and rule
    dropped; cells as written, Markdown escapes and all)."""
    found = [m.value.splitlines() for m in at.markdown]
    return [[[c.strip() for c in line.strip("| ").split(" | ")] for line in lines[2:]]
            for lines in found if len(lines) > 2 and re.fullmatch(r"\|(:?---:?\|)+", lines[1])]


CHART_TYPES = ("plotly_chart", "bidi_component")  # st.plotly_chart; charts.chart's component


def walk(node):
    """``node`` and every element under it, in page order."""
    yield node
    children = getattr(node, "children", None)
    for child in children.values() if isinstance(children, dict) else ():
        yield from walk(child)


def charts_on(at: AppTest) -> list:
    """Every chart element on the page, in page order, however it is drawn."""
    return [node for node in walk(at._tree) if getattr(node, "type", None) in CHART_TYPES]


def chart_keys(at: AppTest) -> list[str]:
    """The widget keys of the page's charts, in page order."""
    return [el.proto.id.rsplit("-", 1)[-1] for el in charts_on(at)]


def chart_specs(at: AppTest) -> list[dict]:
    """The plotly figure JSON of every chart on the page, in page order."""
    return [_spec(el) for el in charts_on(at)]


def chart(at: AppTest, key: str) -> dict:
    """The plotly figure JSON of the one chart whose widget key is ``key``."""
    (found,) = [el for el in charts_on(at) if el.proto.id.endswith(key)]
    return _spec(found)


def drawn_by_bundle(at: AppTest, key: str) -> bool:
    """Whether the chart ``key`` is drawn by the cartesian bundle's component."""
    (found,) = [el for el in charts_on(at) if el.proto.id.endswith(key)]
    return found.type == "bidi_component"


def _spec(element) -> dict:
    if element.type == "bidi_component":
        assert element.proto.component_name == "hessian_explorer_chart"
        return json.loads(json.loads(element.proto.json)["figure"])
    assert element.proto.theme == "", "charts are drawn with theme=None (the figure's own look)"
    return json.loads(element.proto.spec)


def array(value: Any) -> np.ndarray:
    """A plotly JSON array: a (nested) list, or a typed array ``{"dtype", "bdata"[, "shape"]}``."""
    if isinstance(value, dict):
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = value.get("shape")
        if isinstance(shape, str):
            shape = [int(k) for k in shape.split(",")]
        return flat.reshape(shape) if shape else flat
    return np.asarray(value, dtype=float)


def path_pieces(path: str) -> list[np.ndarray]:
    """The pieces of an SVG path of ``M``, ``L`` and ``Z`` commands (a plotly path shape), each an
    ``(n, 2)`` array of its points; a ``Z`` closes a piece without adding a point."""
    pieces: list[list[list[float]]] = []
    for command, body in re.findall(r"([MLZ])([^MLZ]*)", path):
        if command == "M":
            pieces.append([])
        if command != "Z":
            pieces[-1].append([float(v) for v in body.split(",")])
    return [np.array(p) for p in pieces]


def assert_no_exception(at: AppTest) -> None:
    """The last run raised no exception."""
    assert not at.exception, [e.value for e in at.exception]


def assert_clean(at: AppTest) -> None:
    """The last run raised no exception and showed no error."""
    assert_no_exception(at)
    assert not at.error, [e.value for e in at.error]


def type_function(at: AppTest, text: str, *, check: bool = False) -> AppTest:
    """Type ``text`` as the sidebar's function; with ``check``, assert it ran and was accepted."""
    at.sidebar.radio(key="source").set_value("Type your own").run()
    at.sidebar.text_input(key="fn_text").set_value(text).run()
    if check:
        assert not at.exception
        assert not at.error, f"{text!r} was refused: {[e.value for e in at.error]}"
    return at


def open_tab(at: AppTest, key: str, label: str | bool) -> None:
    """Set the lazy tab control (its tab ``label``) or expander (``True``: open) whose session-state
    key is ``key``, and rerun."""
    at.session_state[key] = label
    at.run()
