// make_tfjs.js builds and briefly trains two small MNIST classifiers with TensorFlow.js (pure
// JavaScript, CPU) and saves each in the TF.js layers format (model.json and .bin shards) with
// its reference outputs on the first test images.
//
// Usage (from a scratch directory holding node_modules with @tensorflow/tfjs):
//
//	NODE_PATH=$PWD/node_modules node make_tfjs.js MNIST_DIR OUT_DIR
//
// MNIST_DIR holds the four IDX .gz files (the data folder of the GoMNIST Go module).
'use strict';
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const tf = require('@tensorflow/tfjs');

const [mnistDir, outDir] = process.argv.slice(2);
const NTRAIN = 4000, NREF = 24;

function idx(file) {
  const b = zlib.gunzipSync(fs.readFileSync(path.join(mnistDir, file)));
  const ndim = b[3];
  const dims = [];
  for (let i = 0; i < ndim; i++) dims.push(b.readUInt32BE(4 + 4 * i));
  return { dims, data: b.subarray(4 + 4 * ndim) };
}

function images(file, n) {
  const { data } = idx(file);
  const px = new Uint8Array(data.subarray(0, n * 784));
  return px;
}

function labels(file, n) {
  return new Uint8Array(idx(file).data.subarray(0, n));
}

// save writes the model in the layers format; the weights are cut into shards of at most
// shardBytes bytes, as tensorflowjs_converter does.
async function save(model, dir, shardBytes) {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(tf.io.withSaveHandler(async (a) => {
    let data = a.weightData;
    if (Array.isArray(data)) data = tf.io.concatenateArrayBuffers(data);
    const buf = Buffer.from(data);
    const paths = [];
    const n = Math.max(1, Math.ceil(buf.length / shardBytes));
    for (let i = 0; i < n; i++) {
      const name = `group1-shard${i + 1}of${n}.bin`;
      fs.writeFileSync(path.join(dir, name), buf.subarray(i * shardBytes, Math.min(buf.length, (i + 1) * shardBytes)));
      paths.push(name);
    }
    const json = {
      modelTopology: a.modelTopology,
      format: a.format,
      generatedBy: a.generatedBy,
      convertedBy: a.convertedBy || null,
      weightsManifest: [{ paths, weights: a.weightSpecs }],
    };
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
}

async function build(kind) {
  tf.util.seedrandom && tf.util.seedrandom('gotfe');
  const model = tf.sequential();
  if (kind === 'mlp') {
    model.add(tf.layers.dense({ units: 16, activation: 'relu', inputShape: [784] }));
    model.add(tf.layers.dropout({ rate: 0.1 }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  } else {
    model.add(tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', inputShape: [28, 28, 1] }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 10, activation: 'softmax' }));
  }
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

async function main() {
  const trainX = images('train-images-idx3-ubyte.gz', NTRAIN);
  const trainY = labels('train-labels-idx1-ubyte.gz', NTRAIN);
  const testX = images('t10k-images-idx3-ubyte.gz', NREF);
  for (const kind of ['mlp', 'cnn']) {
    const shape = kind === 'mlp' ? [784] : [28, 28, 1];
    const x = tf.tensor(Float32Array.from(trainX), [NTRAIN, ...shape]).div(255);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from(trainY), 'int32'), 10);
    const model = await build(kind);
    const h = await model.fit(x, y, { epochs: 2, batchSize: 64, verbose: 0 });
    console.log(kind, 'accuracy', h.history.acc.map((a) => a.toFixed(3)).join(' '));
    const dir = path.join(outDir, 'tfjs_' + kind);
    await save(model, dir, kind === 'mlp' ? 32768 : 4 << 20);
    const xr = tf.tensor(Float32Array.from(testX), [NREF, ...shape]).div(255);
    const out = model.predict(xr);
    const ref = {
      tool: 'TensorFlow.js ' + tf.version.tfjs,
      input_shape: shape,
      input_scale: 255, // inputs are the pixels below divided by 255 (in float32)
      inputs: Array.from({ length: NREF }, (_, i) => Array.from(testX.subarray(i * 784, (i + 1) * 784))),
      outputs: await out.array(),
    };
    fs.writeFileSync(path.join(dir, 'reference.json'), JSON.stringify(ref));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
