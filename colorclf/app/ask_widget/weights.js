// Carries a training's newest weights to the sliders (ask.js): drawn by the live panel at
// each epoch, it keeps them on ``window`` and announces them; it shows nothing.
export default function (component) {
  window.colorclfAskWeights = component.data;
  window.dispatchEvent(new CustomEvent('colorclf-ask-weights', { detail: component.data }));
}
