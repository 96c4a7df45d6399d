import streamlit as st
from hessian_explorer.ui.controls import function_sidebar
view = function_sidebar()
st.title("3_curvature")
