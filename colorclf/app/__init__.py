"""The Streamlit pages: the training page (controls, live panel, ask panel, teaching views)
and the labelling page. The only sub-package that imports Streamlit; it never imports Keras
(trainings and uploaded model files go to trainer processes, ``colorclf.serve``).
"""
