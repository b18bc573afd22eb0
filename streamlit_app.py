"""colorclf: label colours, watch a network learn their names, then ask it.

Run with `make run` (or `streamlit run streamlit_app.py`). The pages live in colorclf/app/.

Everything sits under ``if __name__ == "__main__"``: Streamlit runs this file as
``__main__``, and ``multiprocessing``'s spawn runs it again as ``__mp_main__`` in every
trainer process it starts (the "safe importing of main module" rule of its docs), where the
page must not run.
"""

if __name__ == "__main__":
    import streamlit as st

    from colorclf.app.page import training_page

    st.set_page_config(page_title="colorclf · colour classifier", page_icon="🎨", layout="wide")

    def label_colours() -> None:
        from colorclf.app import label_page

        label_page.render()

    def class_board() -> None:
        from colorclf.app import board

        board.render()

    page = st.navigation(
        [
            st.Page(training_page, title="Train", icon="🧠", default=True),
            st.Page(label_colours, title="Label colours", icon="🎨", url_path="label"),
            st.Page(class_board, title="Class board", icon="🏆", url_path="class"),
        ]
    )
    page.run()
