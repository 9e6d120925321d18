// ONNX Runtime side of the benchmark (onnxruntime-node, CPU execution provider).
//
// Usage: node bench_ort.js MODEL.onnx SIZE THREADS RUNS
// Prints one JSON line: {"ms": median, "min", "max", "rss_mib": peak RSS, "version"}.
//
// Session: intraOpNumThreads = THREADS (the thread count under test), one inter-op
// thread, sequential execution, all graph optimisations (ORT's defaults for a
// single-stream CPU run; spinning left at ORT's default).  Input uniform [-1, 1),
// fp32, batch 1.
'use strict';

const path = require('path');
const ort = require(path.join(__dirname, 'node_modules', 'onnxruntime-node'));

function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : 0.5 * (s[m - 1] + s[m]);
}

async function main() {
  const [model, sizeArg, threadsArg, runsArg] = process.argv.slice(2);
  if (!runsArg) {
    console.error('usage: node bench_ort.js MODEL.onnx SIZE THREADS RUNS');
    process.exit(2);
  }
  const size = parseInt(sizeArg, 10);
  const threads = parseInt(threadsArg, 10);
  const runs = parseInt(runsArg, 10);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const n = 3 * size * size;
  const data = new Float32Array(n);
  let seed = 1;
  for (let i = 0; i < n; i++) {
    // xorshift32: a fixed, cheap pseudo-random input
    seed ^= seed << 13; seed >>>= 0;
    seed ^= seed >>> 17;
    seed ^= seed << 5; seed >>>= 0;
    data[i] = (seed / 4294967296) * 2 - 1;
  }
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, size, size]) };
  const times = [];
  for (let r = -1; r < runs; r++) {
    const t0 = process.hrtime.bigint();
    const out = await session.run(feeds);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    const y = out[session.outputNames[0]];
    if (y.dims[2] !== size || y.dims[3] !== size) throw new Error('unexpected output shape');
    if (r >= 0) times.push(ms);
  }
  const version = require(path.join(__dirname, 'node_modules', 'onnxruntime-node', 'package.json')).version;
  console.log(JSON.stringify({
    ms: median(times), min: Math.min(...times), max: Math.max(...times),
    // resourceUsage().maxRSS is in KiB on Linux
    rss_mib: process.resourceUsage().maxRSS / 1024, version,
  }));
}

main().catch((e) => { console.error(`bench_ort: ${e.message}`); process.exit(1); });
