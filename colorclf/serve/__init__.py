"""Serving trainings to many sessions: the fair queue, the trainer pool and the per-session
job. Threads and connections only: neither Streamlit nor TensorFlow (the trainer processes import
that).
"""
