"""Pure figure builders: arrays and core objects in, ``plotly.graph_objects.Figure`` out."""
