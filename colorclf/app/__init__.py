"""The Streamlit pages: the training page (controls, live panel, ask panel, teaching views)
and the labelling page. The only sub-package that imports Streamlit; it never imports Keras
except through ``colorclf.train`` to read an uploaded model file.
"""
