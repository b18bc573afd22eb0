"""Data sets in and out: sources (one dispatcher for the page and the command line), parsing,
row validation, export and the built-in synthetic set. Neither Streamlit nor Keras.
"""
