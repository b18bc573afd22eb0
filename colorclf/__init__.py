"""colorclf — The Coding Train's colour classifier, re-created with Keras and Streamlit."""

__version__ = "0.1.0"
