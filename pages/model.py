"""Model: protect and compress a model's weights, and measure what a model trained on the
table leaks."""

from __future__ import annotations

import streamlit as st

from ui import model_leakage, model_weights, nav
from ui.router import ensure_routed

ensure_routed()  # a deep link right after start-up must still go through app.py

st.title("Model")
st.caption(nav.QUESTIONS["model"])

weights_tab, leakage_tab = st.tabs(["Weights", "Does a model leak?"])
with weights_tab:
    model_weights.render()
with leakage_tab:
    model_leakage.render()
