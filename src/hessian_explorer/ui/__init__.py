"""The only Streamlit-aware part of the package: shared sidebar controls, caches, URL state."""
