// The sliders, the swatch and the model's answer, drawn in the browser: a key press or a
// drag redraws them at once from the weights the server sent (``data.model``), and the
// server hears the colour only when the sliders rest (``REST_MS``), so asking starts no
// script run. While a run trains, the live panel sends each epoch's weights through the
// ``colorclf_ask_weights`` element (``weights.js``), which announces them on ``window``.
const REST_MS = 300;
const EVENT = 'colorclf-ask-weights';

const ACTIVATIONS = {
  linear: (z) => z,
  sigmoid: (z) => z.map((x) => 0.5 * (1 + Math.tanh(0.5 * x))),
  relu: (z) => z.map((x) => Math.max(x, 0)),
  tanh: (z) => z.map(Math.tanh),
  elu: (z) => z.map((x) => (x > 0 ? x : Math.expm1(Math.min(x, 0)))),
  softmax: (z) => {
    const top = Math.max(...z);
    const e = z.map((x) => Math.exp(x - top));
    const sum = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / sum);
  },
};

function floats(base64) {  // little-endian float32, as the server packed them
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

function network(model) {
  if (!model || !Array.isArray(model.layers)) return null;
  const layers = model.layers.map((layer) => ({
    rows: layer.rows, cols: layer.cols, kernel: floats(layer.kernel), bias: floats(layer.bias),
    activation: ACTIVATIONS[layer.activation],
  }));
  return layers.every((l) => l.activation && l.kernel.length === l.rows * l.cols) ? layers : null;
}

function probabilities(layers, rgb) {  // as colorclf.core.predict.Predictor.probabilities
  let values = rgb.map((x) => Math.fround(x / 255));
  for (const { rows, cols, kernel, bias, activation } of layers) {
    const out = Array.from(bias);
    for (let i = 0; i < rows; i++) {
      const v = values[i];
      for (let j = 0; j < cols; j++) out[j] += v * kernel[i * cols + j];
    }
    values = activation(out);
  }
  return values;
}

const percent = (p) => `${Math.round(p * 100)}`;

function describe(labels, p, sure) {  // as colorclf.views.answer.describe_answer
  const ranked = labels.map((label, i) => [label, p[i]]).sort((a, b) => b[1] - a[1]);
  const [[best, p1], [second, p2]] = ranked;
  const headline = p1 >= sure.probability && p1 - p2 >= sure.margin ? best : 'Not sure';
  return [headline, `${best} ${percent(p1)} % / ${second} ${percent(p2)} %`];
}

// Weights of this page's session (a reconnected page's serials start again, and a page can
// still hold the weights of the session before), newer than the ones shown.
function newer(current, model, session) {
  if (!model || model.session !== session) return false;
  return !current || current.session !== session || model.serial > current.serial;
}

// The crowd beside the model (as colorclf.views.crowd): the votes in the colour's cube.
// The server sends the table once per data set; later draws carry only its id, and the
// table waits on ``window`` (it outlives this element, e.g. when presenter mode moves it).
const CROWD_LABELS_SHOWN = 3;

function crowdTable(crowd) {
  if (!crowd || !crowd.id) return null;
  if (Array.isArray(crowd.counts)) window.colorclfCrowd = crowd;
  const held = window.colorclfCrowd;
  return held && held.id === crowd.id ? held : null;
}

function crowdVotes(table, rgb) {  // as crowd_votes
  const [r, g, b] = rgb.map((v) => Math.floor(v / table.cell));
  const start = ((r * table.side + g) * table.side + b) * 9;
  return table.counts.slice(start, start + 9);
}

const share = (part, total) => Math.floor((200 * part + total) / (2 * total));  // as percent

function describeCrowd(labels, votes, table) {  // as describe_crowd
  const total = votes.reduce((a, b) => a + b, 0);
  if (total < table.min_votes) return table.too_few;
  const ranked = labels.map((_, i) => i).filter((i) => votes[i] > 0)
    .sort((i, j) => votes[j] - votes[i] || i - j);
  const shares = ranked.slice(0, CROWD_LABELS_SHOWN)
    .map((i) => `${labels[i]} ${share(votes[i], total)} %`).join(', ');
  return `${total} votes for colours like this: ${shares}`;
}

function disagreement(labels, modelLabel, votes, table) {  // as disagreement
  const total = votes.reduce((a, b) => a + b, 0);
  const top = Math.max(...votes);
  if (total < table.min_votes || votes[labels.indexOf(modelLabel)] === top) return '';
  return `The model says ${modelLabel}, most people said ${labels[votes.indexOf(top)]}.`;
}

function hex(rgb) {
  return rgb.map((v) => v.toString(16).padStart(2, '0')).join('');
}

export default function (component) {
  const { data, parentElement, setStateValue } = component;
  const root = parentElement.querySelector('.colorclf-ask');
  const s = root.colorclfAsk || (root.colorclfAsk = { model: null, layers: null, timer: null });
  const inputs = Array.from(root.querySelectorAll('input'));
  const outputs = Array.from(root.querySelectorAll('output'));
  const headline = root.querySelector('.colorclf-ask-headline');
  const caption = root.querySelector('.colorclf-ask-caption');
  const detail = root.querySelector('.colorclf-ask-detail');
  const bars = root.querySelector('.colorclf-ask-bars');
  const crowdBox = root.querySelector('.colorclf-ask-crowd');
  const crowd = crowdTable(data.crowd);
  if (data.crowd && data.crowd.id && !crowd) {
    // The table's one sending never arrived (a page run's messages can be lost): ask again.
    s.crowdAsks = (s.crowdAsks || 0) + 1;
    setStateValue('crowd_missing', `${data.crowd.id}:${s.crowdAsks}`);
  }
  root.classList.toggle('large', Boolean(data.large));

  // The server moves the sliders only when it says so (the exact-colour field): a new serial.
  if (root.dataset.rgbSerial !== String(data.rgb_serial)) {
    inputs.forEach((input, i) => { input.value = data.rgb[i]; });
    root.dataset.rgbSerial = String(data.rgb_serial);
  }
  s.session = data.model ? data.model.session : null;
  const adopt = (model) => {
    if (!newer(s.model, model, s.session)) return false;
    s.model = model;
    s.layers = network(model);
    return true;
  };
  adopt(data.model);
  adopt(window.colorclfAskWeights);

  const drawCrowd = (rgb, p) => {
    crowdBox.hidden = !crowd;
    if (!crowd) return;
    const votes = crowdVotes(crowd, rgb);
    const total = votes.reduce((a, b) => a + b, 0);
    const text = describeCrowd(data.labels, votes, crowd);
    crowdBox.querySelector('.colorclf-ask-crowd-caption').textContent = crowd.neighbourhood;
    crowdBox.querySelector('.colorclf-ask-crowd-text').textContent = text;
    const bar = crowdBox.querySelector('.colorclf-ask-crowd-bar');
    bar.setAttribute('aria-label', text);
    bar.replaceChildren(...(total < crowd.min_votes ? [] : data.labels.map((label, i) => {
      const part = document.createElement('span');
      part.style.width = `${(100 * votes[i]) / total}%`;
      part.style.background = data.colors[i];
      part.title = `${label} ${votes[i]}`;
      return part;
    }).filter((_, i) => votes[i] > 0)));
    const best = p ? data.labels[p.indexOf(Math.max(...p))] : null;
    crowdBox.querySelector('.colorclf-ask-crowd-disagree').textContent =
      best ? disagreement(data.labels, best, votes, crowd) : '';
  };
  const draw = () => {
    const rgb = inputs.map((input) => Number(input.value));
    rgb.forEach((v, i) => { outputs[i].textContent = String(v); });
    root.querySelector('.colorclf-ask-swatch').style.background =
      `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
    root.querySelector('.colorclf-ask-colour').textContent =
      `This colour: ${rgb.join(', ')} · #${hex(rgb)}`;
    const waiting = !s.layers;
    root.classList.toggle('waiting', waiting);
    const p = waiting ? null : probabilities(s.layers, rgb);
    drawCrowd(rgb, p);
    if (waiting) {
      caption.textContent = '';
      detail.textContent = data.waiting;
      headline.textContent = '';
      bars.replaceChildren();
      return;
    }
    const [words, top2] = describe(data.labels, p, data.sure);
    caption.textContent = 'Prediction';
    headline.textContent = words;
    detail.textContent = top2;
    bars.replaceChildren(...data.labels.map((label, i) => {
      const share = Number.isFinite(p[i]) ? Math.min(1, Math.max(0, p[i])) : 0;
      const row = document.createElement('div');
      row.setAttribute('role', 'listitem');
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = label;
      const bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = `${(share * 85).toFixed(1)}%`;
      bar.style.background = data.colors[i];
      const number = document.createElement('span');
      number.textContent = `${percent(share)}%`;
      row.append(name, bar, number);
      return row;
    }));
  };
  const tell = () => {
    s.timer = null;
    setStateValue('rgb', inputs.map((input) => Number(input.value)));
  };
  inputs.forEach((input) => {
    input.oninput = () => {
      draw();
      clearTimeout(s.timer);
      s.timer = setTimeout(tell, REST_MS);
    };
  });
  if (s.onWeights) window.removeEventListener(EVENT, s.onWeights);
  s.onWeights = (event) => { if (adopt(event.detail)) draw(); };
  window.addEventListener(EVENT, s.onWeights);
  draw();
  return () => {
    window.removeEventListener(EVENT, s.onWeights);
    if (s.timer !== null) {  // unmounted while the sliders moved: the server still hears
      clearTimeout(s.timer);
      tell();
    }
  };
}
