// run_onnxruntime.js runs every onnx_*/model.onnx fixture with ONNX Runtime (CPU) on the inputs
// of its reference.json and stores the outputs there as onnxruntime_outputs: a second
// reference, independent of PyTorch.
//
// Usage (from a scratch directory holding node_modules with onnxruntime-node, installed with
// npm install --ignore-scripts onnxruntime-node):
//
//	NODE_PATH=$PWD/node_modules node run_onnxruntime.js TESTDATA_DIR
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const root = process.argv[2];
  for (const d of fs.readdirSync(root).filter((d) => d.startsWith('onnx_')).sort()) {
    const refPath = path.join(root, d, 'reference.json');
    const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));
    const session = await ort.InferenceSession.create(path.join(root, d, 'model.onnx'));
    const n = ref.inputs.length;
    const per = ref.input_shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n * per);
    ref.inputs.forEach((row, i) => row.forEach((v, j) => {
      data[i * per + j] = ref.input_scale ? Math.fround(v / ref.input_scale) : v;
    }));
    const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [n, ...ref.input_shape]) };
    const res = await session.run(feeds);
    const out = res[session.outputNames[0]];
    const k = out.dims[out.dims.length - 1];
    ref.onnxruntime_outputs = Array.from({ length: n }, (_, i) => Array.from(out.data.subarray(i * k, (i + 1) * k)));
    ref.onnxruntime = 'onnxruntime-node ' + require('onnxruntime-node/package.json').version;
    fs.writeFileSync(refPath, JSON.stringify(ref));
    console.log(d, 'outputs', out.dims.join('x'));
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
