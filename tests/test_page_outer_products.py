"""The outer-products page in Streamlit's AppTest: renders, reacts to every control, never raises."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from apptest_support import array, assert_no_exception, chart, charts_on, open_app, open_tab, path_pieces

PAGE = "pages/7_outer_products.py"
TABS = ["① EF as a preconditioner", "② Fisher identity", "③ EF and Gauss–Newton"]
CHARTS = {TABS[0]: ("op_data", "op_fields"), TABS[1]: ("op_convergence", "op_blobs"),
          TABS[2]: ("op_ef", "op_expfit", "op_gn")}
TAB_OF = {"op_n": TABS[0], "op_noise": TABS[0], "op_misspec": TABS[0], "op_samples": TABS[1], "op_seed": TABS[1],
          "op_flip": TABS[1], "op_away": TABS[2], "op_resid": TABS[2], "op_a": TABS[2], "op_b": TABS[2]}


def _open(tab: str = TABS[0]) -> AppTest:
    at = open_app(page=PAGE, timeout=90)
    assert not at.exception
    if tab != TABS[0]:
        open_tab(at, "op_tab", tab)
        assert not at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _set(at: AppTest, kind: str, key: str, value) -> AppTest:
    getattr(at.sidebar, kind)(key=key).set_value(value).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture(scope="module")
def opened() -> dict[str, AppTest]:
    """The page with default settings, one app per tab (only the open tab runs)."""
    return {tab: _open(tab) for tab in TABS}


@pytest.fixture(scope="module")
def default(opened) -> AppTest:
    return opened[TABS[0]]


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_draws_its_charts_and_only_those(opened, tab):
    at = opened[tab]
    assert not at.error
    assert [at.title[0].value] == ["Outer products done right"]
    assert len(at.tabs) == 3
    assert len(charts_on(at)) == len(CHARTS[tab])
    for key in CHARTS[tab]:
        assert chart(at, key)["data"], key
    assert len(at.caption) >= len(CHARTS[tab]) + 1  # one sentence per chart, plus the conventions line
    assert "class-major" in at.caption[0].value and "MEAN" in at.caption[0].value


def test_the_first_tab_shows_the_angles_of_kunstner_et_al(default):
    m = _metrics(default)
    assert m["NGD"] == "0.0°" and float(m["EF"].rstrip("°")) > float(m["GD"].rstrip("°")) > 10


@pytest.mark.parametrize("tab", TABS)
def test_the_sidebar_holds_the_open_tabs_controls_and_only_those(opened, tab):
    at = opened[tab]
    keys = {w.key for w in list(at.sidebar.slider) + list(at.sidebar.number_input)}
    assert keys == {key for key, owner in TAB_OF.items() if owner == tab}
    assert [h.value for h in at.sidebar.subheader] == [tab[0] + {"①": " Regression (Kunstner et al.)",
                                                                   "②": " Fisher identity",
                                                                   "③": " Decompositions"}[tab[0]]]
    assert at.sidebar.toggle(key="presentation").value is False


def test_each_tab_keeps_its_settings_while_closed_and_across_pages():
    at = _set(_open(), "slider", "op_n", 50)
    open_tab(at, "op_tab", TABS[1])
    _set(at, "number_input", "op_seed", 3)
    _set(at, "slider", "op_flip", 0.0)
    open_tab(at, "op_tab", TABS[0])
    assert at.sidebar.slider(key="op_n").value == 50
    assert "N = 50" in chart(at, "op_data")["data"][0]["name"]
    at.switch_page("pages/1_landscape.py").run()
    assert_no_exception(at)
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    assert at.sidebar.slider(key="op_n").value == 50
    open_tab(at, "op_tab", TABS[1])
    assert at.sidebar.number_input(key="op_seed").value == 3 and at.sidebar.slider(key="op_flip").value == 0.0
    assert float(_metrics(at)["noisy labels, n = 500"]) < 0.1


def test_fields_chart_arrows_start_on_the_grid(default):
    spec = chart(default, "op_fields")
    arrows = [s for s in spec["layout"]["shapes"] if s.get("name", "").startswith("arrows:")]
    assert len(arrows) == 3
    tails = {(round(float(p[0, 0]), 3), round(float(p[0, 1]), 3)) for p in path_pieces(arrows[0]["path"])}
    assert (-1.0, -1.0) in tails and (5.0, 5.0) in tails and len(tails) == 225
    paths = [t for t in spec["data"] if t.get("meta", "").startswith("path:0:")]
    starts = [(array(p["x"])[0], array(p["y"])[0]) for p in paths]
    assert starts == [(2.0, 4.5), (1.0, 0.0), (4.5, 3.0), (-0.5, 3.0)]


def _ef_angle(at):
    return float(_metrics(at)["EF"].rstrip("°"))


def _first_y(at, key):
    return array(chart(at, key)["data"][0]["y"])[:5]


@pytest.mark.parametrize("kind, key, value, check", [
    ("slider", "op_misspec", 0.3, lambda at, d: _ef_angle(at) > _ef_angle(d) + 2),
    ("slider", "op_samples", 100, lambda at, d: "model labels, n = 100" in _metrics(at)),
    ("number_input", "op_seed", 3, lambda at, d: _metrics(at)["model labels, n = 500"]
     != _metrics(d)["model labels, n = 500"]),
    ("slider", "op_flip", 0.0, lambda at, d: float(_metrics(at)["noisy labels, n = 500"]) < 0.1),
    ("slider", "op_away", 1.0, lambda at, d: float(_metrics(at)["share of EF from N·ḡḡᵀ (norm ratio)"]) > 0.1),
    ("slider", "op_resid", 0.0, lambda at, d: _metrics(at)["‖r‖"] == "0"
     and _metrics(at)["min eigenvalue H"] == _metrics(at)["min eigenvalue GN"]),
    ("slider", "op_a", 0.0, lambda at, d: float(_metrics(at)["min eigenvalue H"]) < 0
     < float(_metrics(at)["min eigenvalue GN"])),
    ("slider", "op_b", -1.0, lambda at, d: _metrics(at)["‖r‖"] != _metrics(d)["‖r‖"]),
])
def test_each_control_changes_what_is_shown(opened, kind, key, value, check):
    at = _set(_open(TAB_OF[key]), kind, key, value)
    assert check(at, opened[TAB_OF[key]])


def test_presentation_mode_uses_a_two_by_two_grid_and_stacks_columns():
    at = _set(_open(), "toggle", "presentation", True)
    layout = chart(at, "op_fields")["layout"]
    assert "xaxis3" in layout and layout["yaxis3"]["domain"][1] < layout["yaxis"]["domain"][0]
    assert layout["font"]["size"] == 22


def test_corner_settings_still_render_and_redraw_the_data(default):
    """Every tab at the ends of its sliders (each new setting of ① integrates trajectories for seconds)."""
    at = _open()
    for tab, settings in [(TABS[0], [("op_n", 50), ("op_noise", 0.0), ("op_misspec", 0.5)]),
                          (TABS[1], [("op_samples", 10)]), (TABS[2], [("op_a", -1.0), ("op_b", 2.5)])]:
        open_tab(at, "op_tab", tab)
        for key, value in settings:
            at.sidebar.slider(key=key).set_value(value)
        at.run()
        assert not at.exception and not at.error
        assert len(charts_on(at)) == len(CHARTS[tab])
        if tab == TABS[0]:
            assert "N = 50" in chart(at, "op_data")["data"][0]["name"]
            assert not np.allclose(_first_y(at, "op_data"), _first_y(default, "op_data")[:5])
            assert _ef_angle(at) > _ef_angle(default)
