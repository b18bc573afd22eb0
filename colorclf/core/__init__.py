"""The domain, below every framework: labels, colour maths, data sets, settings, rows, runs.

Imports neither Streamlit nor Keras (tests/test_layout.py checks).
"""
