// Loads a colorclf TensorFlow.js export with the real client (@tensorflow/tfjs, its pure
// JavaScript CPU backend) and prints its probabilities for the colours it is given.
// Usage: node predict.js MODEL_DIR COLOURS_JSON  (COLOURS_JSON: [[r, g, b], ...], 0-255)
// Prints {"backend", "probabilities": [[9 numbers], ...]} on stdout.
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');

async function main() {
  const [folder, coloursFile] = process.argv.slice(2);
  const modelJson = JSON.parse(fs.readFileSync(path.join(folder, 'model.json'), 'utf8'));
  // As a browser's loader does: the weights files the manifest lists, relative to model.json.
  const weightSpecs = [];
  const buffers = [];
  for (const group of modelJson.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const file of group.paths) buffers.push(fs.readFileSync(path.join(folder, file)));
  }
  const bytes = Buffer.concat(buffers);
  const weightData = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  await tf.setBackend('cpu');
  const model = await tf.loadLayersModel({
    load: async () => ({ modelTopology: modelJson.modelTopology, weightSpecs, weightData }),
  });
  const colours = JSON.parse(fs.readFileSync(coloursFile, 'utf8'));
  // The model's inputs are 0-1: r/255, g/255, b/255, as it was trained.
  const inputs = tf.tensor2d(colours, [colours.length, 3], 'float32').div(255);
  const probabilities = await model.predict(inputs).array();
  process.stdout.write(JSON.stringify({ backend: tf.getBackend(), probabilities }));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
