"""The app's pages, in one table: ``app.py`` builds its navigation from it, and the tests and the
benchmark read the same list (no copy of it anywhere else).

Plain data, no Streamlit import. Url paths match the names Streamlit derives from the file names
(``5_linear_regression.py`` -> ``linear_regression``), so a first visit to any page needs no
"page not found" detour.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PageSpec", "FUNCTION_PAGES", "MODEL_PAGES", "PAGES", "SECTIONS"]


@dataclass(frozen=True)
class PageSpec:
    file: str  # relative to the repository root (where app.py is)
    title: str
    icon: str
    url_path: str


FUNCTION_PAGES = (
    PageSpec("pages/1_landscape.py", "Landscape and gradient field", ":material/landscape:", "landscape"),
    PageSpec("pages/2_hessian.py", "Hessian", ":material/grid_on:", "hessian"),
    PageSpec("pages/3_curvature.py", "Curvature along a direction", ":material/explore:", "curvature"),
    PageSpec("pages/4_misconception.py", "H vs ∇f∇fᵀ, side by side", ":material/compare:", "misconception"),
)
MODEL_PAGES = (
    PageSpec("pages/5_linear_regression.py", "Linear regression (least squares)", ":material/show_chart:",
             "linear_regression"),
    PageSpec("pages/6_logistic_regression.py", "Logistic and softmax regression", ":material/category:",
             "logistic_regression"),
    PageSpec("pages/7_outer_products.py", "Outer products done right", ":material/functions:", "outer_products"),
)
PAGES = FUNCTION_PAGES + MODEL_PAGES  # the first is the default page
SECTIONS = {"Pick a function": FUNCTION_PAGES, "…or a model": MODEL_PAGES}
