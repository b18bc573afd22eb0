"""What the web server does once when it starts, before any page asks (``st.App``'s
lifespan, in streamlit_app.py). Imported by the server before it answers: it imports
nothing heavy itself."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import AsyncIterator


@contextlib.asynccontextmanager
async def at_server_start(_app: object) -> AsyncIterator[None]:
    """The trainer starts importing TensorFlow when the server starts, while the first
    browser still loads the page (~2 s here), so the first click of the day does not wait
    for it (bench/bench_page.py, cold starts). In a thread: the page's own modules load
    there too, and the server answers meanwhile."""
    threading.Thread(target=_prepare, name="colorclf-server-start", daemon=True).start()
    yield


def _prepare() -> None:
    from colorclf.app.runtime import prepare_runtime

    prepare_runtime()
