// Runs the browser benchmarks in Debian's headless Chromium and prints them with their ratios (one run):
//   (b) MiniLM batch × seq passages/s: our wasm CPU path vs Transformers.js (ONNX Runtime Web, WASM, 1 thread)
//   (c) the same workload: our WebGPU path vs our wasm CPU path
//   (#3) the engine's CPU kernels in wasm vs the same kernels natively (--native: kernels_native's output)
//   (d) Speak: a Piper voice (en_US-joe-medium), phoneme ids to audio: our wasm CPU VITS vs piper-tts-web's
//       onnxruntime-web runtime (WASM, 1 thread) on the same .onnx file; real-time factor and first-sentence time
// Before timing, each implementation's vectors of the fixture sentences are checked against
// sentence-transformers' (engine/tests/fixtures/bert_minilm.json), and the benchmark batch against ours; each side's
// Piper audio is checked against onnxruntime's (engine/tests/fixtures/piper: same length, SNR >= 30 dB).
//
// node bench/web/run.mjs --weights DIR --onnx DIR --native FILE [--iters N] [--gpu-batch N] [--gpu-iters N]
//                        [--kernel-budget S] [--skip-gpu] [--json FILE] [--profile]
//                        [--only minilm,kernels,piper] [--piper-voice DIR] [--piper-iters N]
// --only: run only the named steps (minilm = (b) and (c); kernels = #3; piper = (d)).
// scripts/bench/browser.sh builds everything and calls this.
import { chromium } from "playwright-core";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";

const here = import.meta.dirname;
const root = path.resolve(here, "../..");

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name) => process.argv.includes(name);

const weights = path.resolve(arg("--weights", path.join(root, ".cache/weights/all-MiniLM-L6-v2")));
const onnxDir = path.resolve(arg("--onnx", path.join(here, "model-onnx")));
const nativeFile = arg("--native");
const iters = Number(arg("--iters", "3"));
const kernelBudget = Number(arg("--kernel-budget", "0.5"));
const [batch, seq] = [32, 128];
const STEPS = ["minilm", "kernels", "piper"];
const only = arg("--only")?.split(",").filter(Boolean);
for (const s of only ?? []) {
  if (!STEPS.includes(s)) {
    console.error(`--only ${s}: the steps are ${STEPS.join(", ")}`);
    process.exit(2);
  }
}
const runs = (step) => !only || only.includes(step);
const piperDir = path.resolve(arg("--piper-voice", path.join(root, ".cache/weights/piper-joe")));
const piperVoice = "en_US-joe-medium";
const piperIters = Number(arg("--piper-iters", "5"));
const piperFixtures = path.join(root, "engine/tests/fixtures/piper");

const needed = [];
if (runs("minilm")) needed.push(["weights", path.join(weights, "model.safetensors")], ["ONNX export", path.join(onnxDir, "onnx/model.onnx")]);
if (runs("piper")) needed.push(["Piper voice", path.join(piperDir, `${piperVoice}.onnx`)], ["piper-tts-web", path.join(here, "node_modules/piper-tts-web/package.json")]);
for (const [what, p] of needed) {
  if (!fs.existsSync(p)) {
    console.error(`${what} missing at ${p}: run scripts/bench/browser.sh, which prepares it`);
    process.exit(2);
  }
}

// URL prefix -> folder. The page, our wasm package and node_modules come from bench/web.
const mounts = [
  ["/weights/", weights],
  ["/tjs-models/minilm/", onnxDir],
  ["/piper/", piperDir],
  ["/piper-fixtures/", piperFixtures],
  ["/", here],
];
const MIME = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
};

function serve(req, res) {
  let url = decodeURIComponent(new URL(req.url, "http://x").pathname);
  if (url.endsWith("/")) url += "index.html";
  const [prefix, dir] = mounts.find(([p]) => url.startsWith(p));
  const file = path.resolve(dir, url.slice(prefix.length));
  // Only files inside the mounted folder (no `..` escapes).
  if (!file.startsWith(dir + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404).end();
    return;
  }
  const type = MIME[path.extname(file)] ?? "application/octet-stream";
  res.writeHead(200, { "content-type": type, "content-length": fs.statSync(file).size, "cache-control": "no-store" });
  fs.createReadStream(file).pipe(res);
}

const server = http.createServer(serve);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${server.address().port}/`;

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "offgrid-bench-chromium-"));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  headless: true,
  args: [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--disable-dev-shm-usage",
    "--enable-unsafe-webgpu",
  ],
});

// The page must not reach the network: every request it makes (page and workers) is watched, and one that is not
// for the local server fails the run.
const offsite = [];
context.on("request", (r) => {
  const u = r.url();
  if (!u.startsWith(base) && !u.startsWith("data:") && !u.startsWith("blob:")) offsite.push(u);
});

const fixture = JSON.parse(fs.readFileSync(path.join(root, "engine/tests/fixtures/bert_minilm.json"), "utf8"));
const results = { machine: {}, checks: {}, minilm: {}, kernels: [], backends: {} };
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(0);
  page.on("console", (m) => {
    if (m.type() === "error" || m.type() === "warning") console.log(`[page ${m.type()}] ${m.text()}`);
  });
  page.on("pageerror", (e) => console.log(`[page error] ${e}`));
  await page.goto(base);
  await page.waitForFunction(() => window.offgridBenchReady === true, null, { timeout: 120_000 });
  const bench = (fn, ...args) => page.evaluate(([fn, args]) => window.offgridBench[fn](...args), [fn, args]);

  results.machine = {
    chromium: context.browser()?.version() ?? "?",
    cpu: os.cpus()[0]?.model ?? "?",
    cores: os.cpus().length,
    webgpu_adapter: await bench("adapter"),
  };
  const log = (s) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

  if (runs("minilm")) {
    log("loading MiniLM: ours (wasm CPU), Transformers.js");
    results.backends = { cpu: await bench("loadOurs", false), tjs: await bench("loadTjs") };
    const useGpu = !flag("--skip-gpu") && results.machine.webgpu_adapter !== null;
    if (useGpu) {
      log("loading MiniLM: ours (WebGPU)");
      results.backends.gpu = await bench("loadOurs", true);
    }

    // WebGPU's agreement with sentence-transformers is engine/tests/bert_minilm_browser.rs' job (minutes on
    // SwiftShader); here it is checked against our CPU vectors on the bench batch.
    log(`checking ${fixture.sentences.length} sentences against sentence-transformers (ours wasm CPU, Transformers.js)`);
    results.checks.fixture_min_cosine = await bench("checkFixture", fixture.sentences, fixture.embeddings, ["cpu"]);
    for (const [name, c] of Object.entries(results.checks.fixture_min_cosine)) {
      if (!(c >= 0.999) && !name.includes("report only")) {
        throw new Error(`${name}: min cosine ${c} < 0.999 against sentence-transformers`);
      }
    }

    if (flag("--profile")) {
      // Where our wasm forward spends its time: the V8 sampling profiler over one MiniLM batch, self time by function.
      log(`profiling one MiniLM ${batch}x${seq} batch on our wasm CPU path`);
      const cdp = await context.newCDPSession(page);
      await cdp.send("Profiler.enable");
      await cdp.send("Profiler.setSamplingInterval", { interval: 500 });
      await cdp.send("Profiler.start");
      await bench("benchMiniLm", batch, seq, 1, ["cpu"]);
      const { profile } = await cdp.send("Profiler.stop");
      const self = new Map();
      const dt = new Map(profile.samples.map((id, i) => [i, profile.timeDeltas[i] ?? 0]));
      const byId = new Map(profile.nodes.map((n) => [n.id, n]));
      profile.samples.forEach((id, i) => {
        const name = byId.get(id)?.callFrame.functionName || "(anonymous)";
        self.set(name, (self.get(name) ?? 0) + dt.get(i) / 1000);
      });
      const total = [...self.values()].reduce((a, b) => a + b, 0);
      results.profile = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
      for (const [name, ms] of results.profile) {
        console.log(`  ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(7)} ms  ${name.slice(0, 110)}`);
      }
    }

    log(`MiniLM ${batch}x${seq}: ours wasm CPU and Transformers.js, ${iters} timed runs each, in turns, after a warm-up`);
    results.minilm = await bench("benchMiniLm", batch, seq, iters, ["cpu", "tjs"]);
    if (useGpu) {
      // SwiftShader runs this model at about 0.2 s per token on this machine (32 x 128 would take a quarter of an
      // hour per run): there the GPU and CPU are compared on a smaller batch, both measured on it.
      const swift = results.machine.webgpu_adapter?.architecture === "swiftshader";
      const gpuBatch = Number(arg("--gpu-batch", swift ? "4" : String(batch)));
      const gpuIters = Number(arg("--gpu-iters", swift ? "1" : String(iters)));
      log(`MiniLM ${gpuBatch}x${seq}: ours WebGPU vs ours wasm CPU, ${gpuIters} timed runs each, in turns, after a warm-up`);
      results.minilm_gpu = { batch: gpuBatch, ...(await bench("benchMiniLm", gpuBatch, seq, gpuIters, ["cpu", "gpu"])) };
    }
    // The same ids through each implementation: the vectors must agree for the times to mean anything.
    for (const [name, r] of [["tjs", results.minilm.tjs], ["gpu", results.minilm_gpu?.gpu]]) {
      if (!r) continue;
      results.checks[`bench batch, ${name} vs ours wasm CPU`] = r.min_cosine_vs_ours_cpu;
      if (!(r.min_cosine_vs_ours_cpu >= 0.999)) throw new Error(`${name} disagrees with ours on the bench batch`);
    }
  }

  if (runs("kernels")) {
    const names = await bench("kernelCases");
    log(`${names.length} kernel cases in wasm, ${kernelBudget} s each`);
    for (let i = 0; i < names.length; i++) results.kernels.push({ wasm: await bench("kernelCase", i, kernelBudget) });
  }

  if (runs("piper")) {
    // Speak: the fixture's sentences as phoneme ids (espeak-ng's phonemes, so the phonemizer is out of it on both
    // sides), deterministic scales, the same .onnx file on both sides.
    const fx = JSON.parse(fs.readFileSync(path.join(piperFixtures, "piper_joe.json"), "utf8"));
    const cases = fx.cases.map((c) => ({ name: c.name, text: c.text, ids: c.ids, samples: c.samples }));
    const scales = [0, 1, 0]; // noise, length, noise_w
    log(`loading Piper ${piperVoice}: ours (wasm CPU), piper-tts-web (onnxruntime-web WASM)`);
    results.piper = { voice: piperVoice, sample_rate: fx.sample_rate, scales, cases, load: await bench("loadPiper", piperVoice, cases[0].ids, scales) };
    const audio_s = cases.reduce((a, c) => a + c.samples, 0) / fx.sample_rate;
    log(`Piper, ${cases.length} sentences (${audio_s.toFixed(2)} s of audio): checked against the fixture WAVs, then ${piperIters} timed runs each, in turns`);
    results.piper.audio_s = audio_s;
    results.piper.bench = await bench("benchPiper", cases, scales, piperIters, 30);
  }
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
  server.close();
}

if (offsite.length) {
  console.error(`the page reached outside the local server: ${[...new Set(offsite)].join(", ")}`);
  process.exit(1);
}

if (nativeFile && results.kernels.length) {
  const native = fs
    .readFileSync(nativeFile, "utf8")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
  for (const k of results.kernels) k.native = native.find((n) => n.name === k.wasm.name);
}

// The report.
const m = results.machine;
const f = (x, d = 1) => (x === undefined || x === null ? "-" : x.toFixed(d));
console.log(`\nBrowser benchmarks, one run. Machine: ${m.cpu}, ${m.cores} cores shared with other work (absolute figures`);
console.log(`are for this machine only); headless Chromium ${m.chromium}.`);
console.log(`WebGPU adapter: ${JSON.stringify(m.webgpu_adapter)}${m.webgpu_adapter?.architecture === "swiftshader" ? " = SwiftShader, a software GPU on the CPU" : ""}`);
for (const [k, v] of Object.entries(results.backends)) console.log(`  ${k}: ${v}`);
if (runs("minilm")) {
  console.log("\nCorrectness (min cosine):");
  for (const [k, v] of Object.entries(results.checks.fixture_min_cosine)) {
    console.log(`  ${k} vs sentence-transformers, ${fixture.sentences.length} sentences: ${v.toFixed(6)}`);
  }
  for (const [k, v] of Object.entries(results.checks)) if (k.startsWith("bench batch")) console.log(`  ${k}: ${v.toFixed(6)}`);
  if (Object.keys(results.checks.fixture_min_cosine).some((k) => k.includes("report only"))) {
    console.log("  (Transformers.js cuts long inputs after adding [CLS]/[SEP], dropping the final [SEP] that");
    console.log("   sentence-transformers and our tokenizer keep: a tokenizer difference, not the model's numerics)");
  }

  const line = (label, r) =>
    console.log(`  ${label.padEnd(44)} ${f(r?.passages_per_s, 2).padStart(8)} passages/s  (best ${f(r?.best_s, 2)} s, mean ${f(r?.mean_s, 2)} s per batch)`);
  const mm = results.minilm;
  console.log(`\n(b) MiniLM-L6 forward + mean pooling, batch ${batch} x ${seq} tokens (tokenization excluded on both sides):`);
  line("ours, wasm32 CPU (simd128, 1 thread)", mm.cpu);
  line("Transformers.js, ORT Web WASM (1 thread)", mm.tjs);
  console.log(`  ratio ours wasm CPU / Transformers.js WASM: ${f(mm.cpu.passages_per_s / mm.tjs.passages_per_s, 2)}x`);
  const mg = results.minilm_gpu;
  if (mg) {
    const arch = m.webgpu_adapter?.architecture || "?";
    console.log(`\n(c) the same forward on WebGPU (${arch}${arch === "swiftshader" ? ": software, on the CPU" : ""}), batch ${mg.batch} x ${seq}:`);
    line("ours, WebGPU", mg.gpu);
    line("ours, wasm32 CPU (same batch)", mg.cpu);
    console.log(`  ratio ours WebGPU / ours wasm CPU: ${f(mg.gpu.passages_per_s / mg.cpu.passages_per_s, 3)}x`);
  }
}

if (results.kernels.length) {
  console.log("\n(issue #3) wasm penalty: the engine's CPU kernels (bench/web/src/kernels.rs), one thread, best of repeated");
  console.log("runs, natively (x86-64, release) and in Chromium (wasm32 + simd128, release):");
  console.log(`  ${"case".padEnd(30)} ${"native GF/s".padStart(11)} ${"wasm GF/s".padStart(10)} ${"native GB/s".padStart(11)} ${"wasm GB/s".padStart(10)} ${"wasm/native".padStart(11)}`);
  for (const k of results.kernels) {
    const n = k.native;
    const ratio = n ? k.wasm.gflops / n.gflops : undefined;
    console.log(`  ${k.wasm.name.padEnd(30)} ${f(n?.gflops).padStart(11)} ${f(k.wasm.gflops).padStart(10)} ${f(n?.weight_gbps).padStart(11)} ${f(k.wasm.weight_gbps).padStart(10)} ${(f(ratio, 2) + "x").padStart(11)}`);
  }
}

const pp = results.piper;
if (pp) {
  const b = pp.bench;
  const names = { ours: pp.load.ours.backend, peer: pp.load.peer.backend };
  console.log(`\n(d) Speak: Piper ${pp.voice} (VITS, ${pp.sample_rate} Hz), phoneme ids -> audio (phonemizer excluded on both sides),`);
  console.log(`    scales [noise ${pp.scales[0]}, length ${pp.scales[1]}, noise_w ${pp.scales[2]}], ${pp.cases.length} sentences = ${f(pp.audio_s, 2)} s of audio, warm, median of ${b.ours.times_s.length} runs in turns:`);
  for (const side of ["ours", "peer"]) {
    console.log(`  ${names[side]}`);
    const cks = b[side].check_before.map((c, i) => `${c.name} ${c.samples} samples ${f(c.snr_db)}/${f(b[side].check_after[i].snr_db)} dB`);
    console.log(`    vs onnxruntime's fixture WAVs (before/after timing): ${cks.join(", ")}`);
  }
  console.log(`  ${"".padEnd(10)} ${"all (s)".padStart(9)} ${"RTF".padStart(7)} ${"x realtime".padStart(11)} ${"1st sentence (s)".padStart(17)} ${"load (s)".padStart(9)} ${"cold 1st (s)".padStart(13)}  runs (s)`);
  for (const side of ["ours", "peer"]) {
    const r = b[side], l = pp.load[side];
    console.log(`  ${side.padEnd(10)} ${f(r.median_s, 3).padStart(9)} ${f(r.median_s / pp.audio_s, 3).padStart(7)} ${f(pp.audio_s / r.median_s, 2).padStart(11)} ${f(r.median_first_s, 3).padStart(17)} ${f(l.load_s, 2).padStart(9)} ${f(l.cold_first_sentence_s, 2).padStart(13)}  ${r.times_s.map((t) => t.toFixed(3)).join(" ")}`);
  }
  console.log(`  ratio ours / piper-tts-web speed: ${f(b.peer.median_s / b.ours.median_s, 2)}x (first sentence: ${f(b.peer.median_first_s / b.ours.median_first_s, 2)}x)`);
  console.log(`  (cold = fresh load of the .onnx to the first sentence's audio; ours excludes our wasm module's compile at page`);
  console.log(`   load, ${f(pp.load.ours.module_init_s, 2)} s, shared by every step; the peer's includes onnxruntime-web's wasm compile)`);
}
const jsonOut = arg("--json");
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify(results, null, 2));
