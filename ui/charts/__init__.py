"""Figures of the pages, one module per page (``ui.charts.risk``, ...): Plotly only, no layout.

A page calls ``fig = charts.risk.class_sizes(summary)`` and draws it with
``st.plotly_chart``; every label that comes from the data goes through
:func:`ui.text.plot_label` here, never in the page.
"""
