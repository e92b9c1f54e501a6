"""Streamlit helpers shared by the pages (state access, guards, error display)."""
