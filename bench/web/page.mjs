// The bench steps, run in headless Chromium by run.mjs: our engine (wasm CPU and WebGPU, from ./pkg) and
// Transformers.js (ONNX Runtime Web, WASM backend) on all-MiniLM-L6-v2, the engine's kernel cases, and a Piper
// voice (Speak): our wasm CPU VITS vs piper-tts-web's onnxruntime-web runtime on the same .onnx and phoneme ids.
// Every step returns plain JSON so run.mjs can print and compare.
import init, { MiniLm, Piper, kernel_cases, run_kernel_case } from "./pkg/offgrid_bench_web.js";
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

// Speak: the voice folder and the fixture WAVs, both from run.mjs' server.
const PIPER_VOICE = "/piper/";
const PIPER_FIXTURES = "/piper-fixtures/";
// piper-tts-web 1.1.2: its OnnxWebRuntime (src/, as shipped in the npm package) and the onnxruntime-web it
// depends on (1.20.x; index.html's import map resolves its bare import to this file, so this is the same module).
const PIPER_TTS_WEB = "/node_modules/piper-tts-web/";
const PIPER_ORT = `${PIPER_TTS_WEB}node_modules/onnxruntime-web/dist/ort.bundle.min.mjs`;
const piper = { ours: null, peer: null, config: null, url: null };

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

/** The 16-bit PCM samples of a mono WAV as floats in [-1, 1) (the "data" chunk, wherever it is). */
function wavSamples(buf) {
  const v = new DataView(buf);
  const tag = (o) => String.fromCharCode(...new Uint8Array(buf, o, 4));
  if (tag(0) !== "RIFF" || tag(8) !== "WAVE") throw new Error("not a WAV file");
  let bits = 0, channels = 0;
  for (let o = 12; o + 8 <= buf.byteLength; ) {
    const id = tag(o), size = v.getUint32(o + 4, true);
    if (id === "fmt ") {
      channels = v.getUint16(o + 10, true);
      bits = v.getUint16(o + 22, true);
    } else if (id === "data") {
      if (bits !== 16 || channels !== 1) throw new Error(`WAV is ${bits}-bit, ${channels} channels; want 16-bit mono`);
      const n = Math.min(size, buf.byteLength - o - 8) >> 1;
      const out = new Float32Array(n);
      for (let i = 0; i < n; i++) out[i] = v.getInt16(o + 8 + 2 * i, true) / 32768;
      return out;
    }
    o += 8 + size + (size & 1);
  }
  throw new Error("WAV without a data chunk");
}

/** SNR of `got` against `want` in dB, over the shorter of the two. */
function snrDb(got, want) {
  let signal = 0, noise = 0;
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    signal += want[i] * want[i];
    noise += (got[i] - want[i]) ** 2;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-20));
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One sentence through each side, as each side's API gives it: ours a Float32Array, piper-tts-web a 16-bit WAV
 * Blob (decoded only when checked, outside the timed part). */
const piperSides = {
  ours: (ids, [noise, length, noiseW]) => piper.ours.synthesize(Uint32Array.from(ids), noise, length, noiseW),
  async peer(ids, [noise, length, noiseW]) {
    // piper-tts-web takes the scales from the voice config's "inference" and the model from a URL (it fetches
    // a blob URL of it; here, the served file).
    const voiceData = [{ ...piper.config, inference: { noise_scale: noise, length_scale: length, noise_w: noiseW } }, piper.url];
    return (await piper.peer.generate({ phoneme_ids: ids }, voiceData, 0)).file;
  },
};
const piperSamples = async (out) => (out instanceof Blob ? wavSamples(await out.arrayBuffer()) : out);

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

  /** Loads the Piper voice on both sides and says what each is; the cold figures are from a fresh load to the
   * first sentence's audio (`firstIds`). Ours excludes our wasm module's compile (at page load, for every step:
   * `ours_module_init_s`); the peer's includes onnxruntime-web's wasm compile, which happens on its first session. */
  async loadPiper(voice, firstIds, scales) {
    const config = await (await fetch(`${PIPER_VOICE}${voice}.onnx.json`)).json();
    piper.config = config;
    piper.url = `${PIPER_VOICE}${voice}.onnx`;
    const out = {};

    let t = performance.now();
    piper.ours = Piper.load(await bytes(piper.url), config.audio.sample_rate);
    const oursLoad = (performance.now() - t) / 1e3;
    await piperSides.ours(firstIds, scales);
    out.ours = {
      backend: `ours, ${piper.ours.backend()}`,
      load_s: oursLoad,
      cold_first_sentence_s: (performance.now() - t) / 1e3,
      module_init_s: oursModuleInitS,
    };

    const ort = await import(PIPER_ORT);
    const { default: OnnxWebRuntime } = await import(`${PIPER_TTS_WEB}src/Runtime/Onnx/OnnxWebRuntime.js`);
    const pkg = await (await fetch(`${PIPER_TTS_WEB}package.json`)).json();
    // Its ORT wasm files as the package ships them (dist/onnx, byte for byte onnxruntime-web 1.20's); one thread
    // like ours (its default is navigator.hardwareConcurrency).
    piper.peer = new OnnxWebRuntime({ basePath: `${PIPER_TTS_WEB}dist/onnx/`, numThreads: 1 });
    t = performance.now();
    await piper.peer.loadSession([config, piper.url]);
    const peerLoad = (performance.now() - t) / 1e3;
    await piperSides.peer(firstIds, scales);
    out.peer = {
      backend: `piper-tts-web ${pkg.version} OnnxWebRuntime, ONNX Runtime Web ${ort.env.versions?.web ?? "?"} (WASM, ${ort.env.wasm.numThreads} thread${ort.env.wasm.numThreads === 1 ? "" : "s"})`,
      load_s: peerLoad,
      cold_first_sentence_s: (performance.now() - t) / 1e3,
    };
    if (ort.env.wasm.numThreads !== 1) throw new Error(`onnxruntime-web runs ${ort.env.wasm.numThreads} threads`);
    return out;
  },

  /** The Speak benchmark: the fixture's sentences (`cases`: {name, ids, samples}) through both sides. First one
   * pass each, checked against the fixture WAVs (the same number of samples, SNR >= `minSnr` dB) before anything is
   * timed; then `iters` timed passes of all the sentences, the two sides in turns; the last outputs are checked
   * again. Returns each side's times of all sentences and of the first sentence, their medians, and the checks. */
  async benchPiper(cases, scales, iters, minSnr) {
    const want = [];
    for (const c of cases) want.push(wavSamples(await (await fetch(`${PIPER_FIXTURES}${c.name}.wav`)).arrayBuffer()));
    const check = async (side, outs) => {
      const res = [];
      for (let i = 0; i < cases.length; i++) {
        const got = await piperSamples(outs[i]);
        const r = { name: cases[i].name, samples: got.length, want_samples: cases[i].samples, snr_db: snrDb(got, want[i]) };
        res.push(r);
        if (r.samples !== r.want_samples || want[i].length !== r.want_samples) {
          throw new Error(`${side} ${r.name}: ${r.samples} samples, the fixture has ${r.want_samples} (WAV ${want[i].length})`);
        }
        if (!(r.snr_db >= minSnr)) throw new Error(`${side} ${r.name}: SNR ${r.snr_db.toFixed(1)} dB < ${minSnr}`);
      }
      return res;
    };
    const pass = async (side) => {
      const outs = [];
      const t = performance.now();
      let first;
      for (const c of cases) {
        outs.push(await piperSides[side](c.ids, scales));
        first ??= (performance.now() - t) / 1e3;
      }
      return { outs, total: (performance.now() - t) / 1e3, first };
    };
    const sides = Object.keys(piperSides);
    const r = {};
    for (const side of sides) {
      const warm = await pass(side); // warm-up, and the check before timing
      r[side] = { warmup_s: warm.total, check_before: await check(side, warm.outs), times_s: [], first_s: [] };
    }
    const last = {};
    for (let i = 0; i < iters; i++) {
      for (const side of sides) {
        const p = await pass(side);
        r[side].times_s.push(p.total);
        r[side].first_s.push(p.first);
        last[side] = p.outs;
      }
    }
    for (const side of sides) {
      r[side].check_after = await check(side, last[side]);
      r[side].median_s = median(r[side].times_s);
      r[side].median_first_s = median(r[side].first_s);
    }
    return r;
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

const initStart = performance.now();
await init();
const oursModuleInitS = (performance.now() - initStart) / 1e3;
document.getElementById("status").textContent = "ready";
window.offgridBenchReady = true;
