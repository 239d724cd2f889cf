// The bench steps, run in headless Chromium by run.mjs: our engine (wasm CPU and WebGPU, from ./pkg) and
// Transformers.js (ONNX Runtime Web, WASM backend) on all-MiniLM-L6-v2, and the engine's kernel cases.
// Every step returns plain JSON so run.mjs can print and compare.
import init, { MiniLm, kernel_cases, run_kernel_case } from "./pkg/offgrid_bench_web.js";
import { env, pipeline, mean_pooling, Tensor } from "/node_modules/@huggingface/transformers/dist/transformers.js";

// Offline: the exported folder from run.mjs' server, ORT's wasm files from node_modules, never a CDN.
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = "/tjs-models/";
env.useBrowserCache = false;
const ortDist = "/node_modules/onnxruntime-web/dist/";
env.backends.onnx.wasm.wasmPaths = {
  mjs: `${ortDist}ort-wasm-simd-threaded.asyncify.mjs`,
  wasm: `${ortDist}ort-wasm-simd-threaded.asyncify.wasm`,
};
// Our wasm path is single-threaded: compare at the same thread count.
env.backends.onnx.wasm.numThreads = 1;

const WEIGHTS = "/weights/";
const ours = {};
let tjs = null;

async function bytes(url, optional = false) {
  const r = await fetch(url);
  if (optional && r.status === 404) return undefined;
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

/** Times each of `steps` (name -> async function) `iters` times after one warm-up run each (pipelines, buffer
 * pools, JIT), taking turns, so that load from elsewhere on the machine falls on all of them alike. Returns the
 * best and mean seconds and the last output of each. */
async function timeInTurns(steps, iters) {
  const out = {};
  for (const [name, step] of Object.entries(steps)) out[name] = { out: await step(), times_s: [] };
  for (let i = 0; i < iters; i++) {
    for (const [name, step] of Object.entries(steps)) {
      const t = performance.now();
      out[name].out = await step();
      out[name].times_s.push((performance.now() - t) / 1e3);
    }
  }
  for (const r of Object.values(out)) {
    r.best_s = Math.min(...r.times_s);
    r.mean_s = r.times_s.reduce((a, b) => a + b, 0) / r.times_s.length;
  }
  return out;
}

/** The deterministic batch of bert_bench.rs: [CLS] ordinary-word ids … [SEP], no padding. */
function benchIds(batch, seq) {
  const ids = new Uint32Array(batch * seq);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < seq; t++) {
      ids[b * seq + t] = t === 0 ? 101 : t === seq - 1 ? 102 : 2000 + ((b * 7919 + t * 104729) % 20000);
    }
  }
  return ids;
}

function rows(flat, dim) {
  const out = [];
  for (let i = 0; i < flat.length; i += dim) out.push(Array.from(flat.slice(i, i + dim)));
  return out;
}

function cosine(a, b) {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.max(Math.sqrt(na * nb), 1e-12);
}

function minCosine(got, want) {
  if (got.length !== want.length) throw new Error(`${got.length} vectors vs ${want.length}`);
  return Math.min(...got.map((g, i) => cosine(g, want[i])));
}

async function tjsEmbedIds(ids, batch, seq) {
  const dims = [batch, seq];
  const n = batch * seq;
  const attention_mask = new Tensor("int64", new BigInt64Array(n).fill(1n), dims);
  const { last_hidden_state } = await tjs.model({
    input_ids: new Tensor("int64", BigInt64Array.from(ids, (v) => BigInt(v)), dims),
    attention_mask,
    token_type_ids: new Tensor("int64", new BigInt64Array(n), dims),
  });
  return mean_pooling(last_hidden_state, attention_mask).normalize(2, -1).data;
}

window.offgridBench = {
  async adapter() {
    if (!navigator.gpu) return null;
    const a = await navigator.gpu.requestAdapter();
    return a ? { vendor: a.info.vendor, architecture: a.info.architecture, description: a.info.description } : null;
  },

  kernelCases: () => kernel_cases(),
  kernelCase: (i, budget) => JSON.parse(run_kernel_case(i, budget)),

  async loadOurs(gpu) {
    const m = await MiniLm.load(
      gpu,
      await bytes(`${WEIGHTS}model.safetensors`),
      await bytes(`${WEIGHTS}config.json`),
      await bytes(`${WEIGHTS}tokenizer.json`),
      await bytes(`${WEIGHTS}1_Pooling/config.json`, true),
      await bytes(`${WEIGHTS}sentence_bert_config.json`, true),
    );
    ours[gpu ? "gpu" : "cpu"] = m;
    return m.backend();
  },

  async loadTjs() {
    tjs = await pipeline("feature-extraction", "minilm", { device: "wasm", dtype: "fp32" });
    return `Transformers.js ${env.version}, ONNX Runtime Web ${env.backends.onnx.versions?.web ?? "?"} (WASM, ${env.backends.onnx.wasm.numThreads} thread)`;
  },

  /** Min cosines of our (on `oursDevices`) and Transformers.js' vectors of the fixture sentences against
   * sentence-transformers'. Transformers.js' are split: its tokenizer truncates after adding the special tokens,
   * so a text past the max length loses its final [SEP] (sentence-transformers keeps it) and its vector differs
   * for that reason alone. */
  async checkFixture(sentences, want, oursDevices) {
    const out = {};
    for (const name of oursDevices) {
      const m = ours[name];
      out[`ours ${name}, all`] = minCosine(rows(await m.embed(sentences), m.dim()), want);
    }
    if (tjs) {
      const got = (await tjs(sentences, { pooling: "mean", normalize: true })).tolist();
      const max = tjs.tokenizer.model_max_length;
      const long = sentences.map((s) => tjs.tokenizer(s).input_ids.dims[1] > max);
      const pick = (flag) => [got.filter((_, i) => long[i] === flag), want.filter((_, i) => long[i] === flag)];
      out[`Transformers.js, within ${max} tokens`] = minCosine(...pick(false));
      if (long.some(Boolean)) out[`Transformers.js, past ${max} tokens (report only)`] = minCosine(...pick(true));
    }
    return out;
  },

  /** Times batch × seq through each of `which` (in turns); min cosine of each against our wasm CPU vectors. */
  async benchMiniLm(batch, seq, iters, which) {
    const ids = benchIds(batch, seq);
    const steps = {};
    for (const name of which) {
      steps[name] = name === "tjs" ? () => tjsEmbedIds(ids, batch, seq) : () => ours[name].embed_ids(ids, batch, seq);
    }
    const timed = await timeInTurns(steps, iters);
    const results = {};
    for (const [name, r] of Object.entries(timed)) {
      results[name] = { best_s: r.best_s, mean_s: r.mean_s, times_s: r.times_s, passages_per_s: batch / r.best_s };
      results[name].vectors = rows(r.out, r.out.length / batch);
    }
    const ref = results.cpu?.vectors;
    for (const r of Object.values(results)) {
      if (ref) r.min_cosine_vs_ours_cpu = minCosine(r.vectors, ref);
      delete r.vectors;
    }
    return results;
  },
};

await init();
document.getElementById("status").textContent = "ready";
window.offgridBenchReady = true;
