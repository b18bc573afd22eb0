"""Keras: the model, the loss-stream callback, the training loop, model files, the trainer
process and the command line's progress bar. The only sub-package that imports Keras (and so
TensorFlow); never Streamlit.
"""

import os

# Before any module here imports TensorFlow: no C++ INFO/WARNING lines on stderr. On CPUs
# where oneDNN's custom operations switch on, TensorFlow announces them at import through
# absl, which TF_CPP_MIN_LOG_LEVEL does not silence (two lines before every CLI message);
# for a network this small they buy nothing.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# One thread per operation: this network's operations take microseconds, so handing each to
# a pool costs more than it saves, and a trainer runs runs side by side on the cores instead
# (bench/bench_engine.py: the tutorial's run 0.26 → 0.17 s).
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
