"""PrivLens core: data intake, privacy measures, hardening and export, free of any UI code.

Usable from a notebook or the command line (``python -m core --help``) as well as from the
Streamlit pages.
"""

__version__ = "0.1.0"
