"""colorclf: label colours, watch a network learn their names, then ask it.

Run with `make run` (or `streamlit run streamlit_app.py`). The pages live in colorclf/app/.
"""

import streamlit as st

if __name__ != "__main__":
    # `streamlit run streamlit_app.py` imports this file once for its server (it finds the
    # st.App below): the trainer then warms up from the server's start, not the first page's.
    from colorclf.app.server_start import at_server_start

    app = st.App(__file__, lifespan=at_server_start)
else:  # every page run: Streamlit runs this file as the page script
    from colorclf.app.page import training_page
    from colorclf.app.presenter import presenting
    from colorclf.app.runtime import share_the_interpreter
    from colorclf.app.style import readable_text

    st.set_page_config(page_title="colorclf · colour classifier", page_icon="🎨", layout="wide")
    share_the_interpreter()  # a class's many sessions share one Python interpreter

    def label_colours() -> None:
        from colorclf.app import label_page

        label_page.render()

    def class_board() -> None:
        from colorclf.app import board

        board.render()

    page = st.navigation(
        [
            st.Page(training_page, title="Train", icon=":material/model_training:", default=True),
            st.Page(
                label_colours, title="Label colours", icon=":material/palette:", url_path="label"
            ),
            st.Page(
                class_board, title="Class board", icon=":material/leaderboard:", url_path="class"
            ),
        ],
        position="hidden" if presenting() else "sidebar",  # presenter mode: no sidebar at all
    )
    readable_text()  # every page's captions at WCAG AA contrast
    page.run()
