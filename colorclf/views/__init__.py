"""The charts and teaching views as data: fixed Vega-Lite specs and the frames they draw.

Headless (neither Streamlit nor Keras): the page draws each with ``st.vega_lite_chart(frame,
spec)``; redrawing with new data and the same spec costs a few milliseconds and the browser
keeps its view (no flicker), so the decision map can follow the weights epoch by epoch.
"""
