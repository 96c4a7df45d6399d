"""The hard wall-clock limit: work in a worker process that is killed on timeout."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from hessian_explorer import ExpressionError, parse_function
from hessian_explorer.sandbox import WorkTimeout, checked_parse_function, run_with_timeout


def test_runaway_work_is_killed_on_time():
    start = time.perf_counter()
    with pytest.raises(WorkTimeout):
        run_with_timeout(time.sleep, (30,), limit=0.5)
    assert time.perf_counter() - start < 5.0


def test_results_come_back():
    assert run_with_timeout(divmod, (17, 5), limit=10) == (3, 2)


def test_errors_in_the_worker_are_reported_by_name():
    with pytest.raises(RuntimeError) as info:
        run_with_timeout(int, ("not a number",), limit=10)
    assert info.value.args[0] == "ValueError"


def test_a_crashed_worker_is_reported():
    with pytest.raises(RuntimeError) as info:
        run_with_timeout(os._exit, (3,), limit=10)
    assert info.value.args[0] == "WorkerDied"


@pytest.mark.parametrize("text", ["x^2 y + sin(x y)", "-log(1 - x - y)", "sigmoid(a) + softplus(b c)"])
def test_checked_parse_matches_parse(text):
    f, g = checked_parse_function(text), parse_function(text)
    point = np.full(f.n, 0.1)
    assert f.variables == g.variables
    assert np.array_equal(f.hessian(point), g.hessian(point))


@pytest.mark.parametrize("text", ["__import__('os')", "9^9^9", "x +", "(" * 5000])
def test_refusals_keep_their_message(text):
    with pytest.raises(ExpressionError) as sandboxed:
        checked_parse_function(text)
    with pytest.raises(ExpressionError) as direct:
        parse_function(text)
    assert str(sandboxed.value) == str(direct.value)


def test_timeout_becomes_a_friendly_refusal(monkeypatch):
    import hessian_explorer.sandbox as sandbox

    def slow(fn, args, limit):
        raise WorkTimeout("stopped")

    monkeypatch.setattr(sandbox, "run_with_timeout", slow)
    with pytest.raises(ExpressionError, match="too long"):
        sandbox.checked_parse_function("x^2")
