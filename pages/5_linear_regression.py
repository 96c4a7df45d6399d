import streamlit as st
from hessian_explorer.ui.layout import ensure_entrypoint
ensure_entrypoint()
st.title("5_linear_regression")
