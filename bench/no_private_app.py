"""The training page without its one private Streamlit name, for ``bench_private.py``.

The live panel asks ``colorclf.app.streamlit_private.another_run_waits`` whether a page run
or another fragment waits, and ends its long fragment run at once when one does. Here that
question always answers "no" (what it answers when the private names vanish), so another
fragment's run waits until the live run ends (a page run still cuts it short: Streamlit
does that by itself). Everything else is the app.

    .venv/bin/python -m streamlit run bench/no_private_app.py
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import colorclf.app.live  # noqa: E402


def _never(ctx: object = None) -> bool:
    return False


colorclf.app.live.another_run_waits = _never
exec(compile((ROOT / "streamlit_app.py").read_text(), str(ROOT / "streamlit_app.py"), "exec"))
