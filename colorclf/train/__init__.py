"""Keras: the model, the loss-stream callback, the training loop, model files, the trainer
process and the command line's progress bar. The only sub-package that imports Keras (and so
TensorFlow); never Streamlit.
"""

import os

# Before any module here imports TensorFlow: no C++ INFO/WARNING lines on stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
