"""A design probe for bench_browser_ask.py: the floor page's sidebar inputs and ``Train``
button (floor_app.py; not its chart and status, so a smaller page, but a key press here
starts no script run, which is what costs in proportion to a page's size) beside sliders,
a swatch and an answer drawn by an ``st.components.v2`` component that runs the network in
the browser, as the original TF.js sketch did.

The component gets the weights as ``data`` (a 3→16→9 network of fixed random weights here;
the app would pass the run's latest ones), answers each key press itself and tells Python
the colour only when the slider rests (``setStateValue`` after 300 ms without input), so a
key press starts no script run.

    .venv/bin/python -m streamlit run bench/browser_ask_app.py
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import streamlit as st

from colorclf.core.labels import LABEL_COLORS, LABELS

HTML = """
<div class="ask">
  <label>Red <input type="range" min="0" max="255" data-channel="0" aria-label="Red"></label>
  <label>Green <input type="range" min="0" max="255" data-channel="1" aria-label="Green"></label>
  <label>Blue <input type="range" min="0" max="255" data-channel="2" aria-label="Blue"></label>
  <div class="swatch"></div>
  <div class="answer" aria-live="polite"></div>
  <div class="bars" role="list" aria-label="Probabilities"></div>
</div>
"""

CSS = """
.ask label { display: block; margin: 0.4rem 0; }
.ask input { width: 100%; }
.swatch { height: 40px; border-radius: 8px; border: 1px solid #8884; }
.answer { font-size: 2rem; margin: 0.5rem 0; }
.bars div { display: flex; align-items: center; gap: 6px; height: 19px; font-size: 0.8rem; }
.bars span.name { flex: 0 0 5.8em; text-align: right; }
.bars span.bar { display: inline-block; height: 13px; border-radius: 2px; }
"""

JS = """
const act = {
  linear: (v) => v,
  relu: (v) => v.map((x) => Math.max(x, 0)),
  tanh: (v) => v.map(Math.tanh),
  sigmoid: (v) => v.map((x) => 1 / (1 + Math.exp(-x))),
  softmax: (v) => { const m = Math.max(...v); const e = v.map((x) => Math.exp(x - m));
                    const s = e.reduce((a, b) => a + b, 0); return e.map((x) => x / s); },
};
function forward(layers, rgb) {
  let v = rgb.map((x) => x / 255);
  for (const [kernel, bias, activation] of layers) {
    const out = bias.slice();
    for (let i = 0; i < v.length; i++)
      for (let j = 0; j < out.length; j++) out[j] += v[i] * kernel[i][j];
    v = act[activation](out);
  }
  return v;
}
export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector('.ask');
  const inputs = Array.from(root.querySelectorAll('input'));
  const swatch = root.querySelector('.swatch');
  const answer = root.querySelector('.answer');
  const bars = root.querySelector('.bars');
  if (!root.dataset.ready) {
    inputs.forEach((input, i) => { input.value = data.rgb[i]; });
    root.dataset.ready = '1';
  }
  let timer = null;
  const draw = () => {
    const rgb = inputs.map((input) => Number(input.value));
    swatch.style.background = `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
    const p = forward(data.layers, rgb);
    const best = p.indexOf(Math.max(...p));
    answer.textContent = data.labels[best];
    bars.replaceChildren(...data.labels.map((label, i) => {
      const row = document.createElement('div'); row.setAttribute('role', 'listitem');
      const name = document.createElement('span'); name.className = 'name';
      name.textContent = label;
      const bar = document.createElement('span'); bar.className = 'bar';
      bar.style.width = `${(p[i] * 85).toFixed(1)}%`; bar.style.background = data.colors[i];
      const pct = document.createElement('span'); pct.textContent = `${Math.round(p[i] * 100)}%`;
      row.append(name, bar, pct); return row;
    }));
    return rgb;
  };
  const onInput = () => {
    const rgb = draw();
    clearTimeout(timer);
    timer = setTimeout(() => setStateValue('rgb', rgb), 300);
  };
  inputs.forEach((input) => { input.oninput = onInput; });
  draw();
  return () => clearTimeout(timer);
}
"""

ask = st.components.v2.component(
    "colorclf_probe_ask", html=HTML, css=CSS, js=JS, isolate_styles=False
)


def network() -> list[list]:
    rng = np.random.default_rng(7)
    shapes = [(3, 16, "relu"), (16, 9, "softmax")]
    return [
        [rng.normal(0, 2, (n_in, n_out)).tolist(), rng.normal(0, 0.5, n_out).tolist(), act]
        for n_in, n_out, act in shapes
    ]


st.set_page_config(page_title="browser ask", layout="wide")
with st.sidebar:
    st.header("Network")
    st.number_input("Epochs", 1, 500, 10)
    st.number_input("Batch size", 1, 4096, 32)
left, right = st.columns([3, 2])
with left:
    st.button("Train", type="primary")
with right:
    st.subheader("Ask the model")
    result = ask(
        key="ask",
        data={
            "layers": network(),
            "labels": list(LABELS),
            "colors": [LABEL_COLORS[label] for label in LABELS],
            "rgb": [255, 0, 0],
        },
        default={"rgb": [255, 0, 0]},
        on_rgb_change=lambda: None,
    )
    st.caption(f"The server heard: {tuple(result.rgb)}")
