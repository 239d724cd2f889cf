// The task runtime in the real worker: the model registry (the Device page's choice — model, backend and
// weight type — is what the worker loads; two GPU models share one device; a small memory budget evicts the
// least recently used model; an injected GPU loss drops the GPU models and the next use reloads them on a
// new device) and cancellation as its own kind of ending. Real MiniLM and the Whisper test checkpoint come
// from a local mirror.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startAppServer, startMirror } from "./lib/servers.mjs";
import { DIST, MINILM, MINILM_REPO, appUrl } from "./lib/app.mjs";
import { VAD_WAV, WHISPER_TINY, launchVoice } from "./lib/voice.mjs";

const WHISPER_REPO = "offgrid-test/whisper-tiny-random";
let app;
let mirror;
before(async () => {
  app = await startAppServer(DIST);
  mirror = await startMirror({ [MINILM_REPO]: MINILM, [WHISPER_REPO]: WHISPER_TINY });
});
after(async () => {
  await app?.close();
  await mirror?.close();
});

const models = () => `models=${encodeURIComponent(mirror.base("good"))}`;

/** Chromium with the Device page's choices (`overrides`, as the page saves them) already made. */
function launch(webgpu, overrides) {
  const init = overrides
    ? `localStorage.setItem("offgrid.overrides", ${JSON.stringify(JSON.stringify(overrides))})`
    : undefined;
  return launchVoice({ webgpu, init });
}

/** Goes to a route inside the running app (a hash change: same page, same worker). */
async function go(page, route, query = "") {
  await page.evaluate((h) => { location.hash = h; }, `#${route}${query ? `?${query}` : ""}`);
  await page.waitForSelector("main h1", { timeout: 60_000 });
}

/** What the Models page says is in memory, read after asking the worker again. */
async function loaded(page) {
  await go(page, "/models", models());
  await page.waitForSelector("#loaded-models", { timeout: 30_000 });
  return page.evaluate(() => {
    const root = document.querySelector("#loaded-models");
    return {
      gpuDevices: Number(root.dataset.gpuDevices),
      evictions: Number(root.dataset.evictions),
      budget: Number(root.dataset.budget),
      models: [...root.querySelectorAll("li.loaded-model")].map((li) => ({
        variant: li.dataset.variant, backend: li.dataset.backend, dtype: li.dataset.dtype,
        gpuDevice: li.dataset.gpuDevice, bytes: Number(li.dataset.bytes),
      })),
    };
  });
}

/** The Device page's decision for a task. */
async function planned(page, task) {
  await go(page, "/device");
  const row = `li.plan-task[data-task=${task}]`;
  await page.waitForSelector(row, { timeout: 90_000 });
  return page.evaluate((sel) => {
    const li = document.querySelector(sel);
    return { variant: li.dataset.variant, backend: li.dataset.backend, dtype: li.dataset.dtype };
  }, row);
}

/** Builds the sample collection (the search page's shared link) and runs one query. */
async function searchSample(page) {
  await go(page, "/search", `${models()}&c=sample&q=${encodeURIComponent("volcano eruptions")}`);
  await page.waitForSelector("#build-done, #hits li", { timeout: 300_000 });
  await page.waitForSelector("#hits li", { timeout: 120_000 });
  assert.match(await page.textContent("#hits li:first-child p"), /Volcanoes form/);
}

/** Transcribes the VAD fixture with the Whisper test checkpoint (one pass per window: random weights are
 * unsure of everything, which careful decoding would decode again and again). */
async function transcribeFile(page) {
  await go(page, "/transcribe", `${models()}&model=whisper-tiny-random&decode=quick`);
  await page.setInputFiles("input[type=file]", VAD_WAV);
  await page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 300_000 });
  assert.equal(await page.$("[role=alert]"), null, await page.textContent("main"));
}

/** Starts transcribing the VAD fixture with the Whisper test checkpoint and cancels it once Whisper is
 * decoding (so the model is loaded): a random checkpoint decodes its whole context, minutes on a software GPU. */
async function startTranscribeThenCancel(page) {
  await go(page, "/transcribe", `${models()}&model=whisper-tiny-random&decode=quick`);
  await page.setInputFiles("input[type=file]", VAD_WAV);
  await page.click(".job-status:has-text('Processing audio') button:has-text('Cancel')", { timeout: 300_000 });
  await page.waitForSelector(".job-status:has-text('Cancelled')", { timeout: 120_000 });
  assert.equal(await page.$("[role=alert]"), null, await page.textContent("main"));
}

/** Asserts that the Device page's choice for search is the model the worker holds. */
function assertLoadedAsPlanned(report, choice) {
  const minilm = report.models.find((m) => m.variant === choice.variant);
  assert.ok(minilm, `the planned model is loaded: ${JSON.stringify(report)}`);
  assert.deepEqual({ variant: minilm.variant, backend: minilm.backend, dtype: minilm.dtype }, choice);
}

test("the Device page's model, backend and weight type are what the worker loads (WebGPU off)", async () => {
  const b = await launch(false);
  try {
    await b.page.goto(appUrl(app, "/device"));
    const choice = await planned(b.page, "search");
    assert.equal(choice.backend, "cpu");
    assert.ok(choice.dtype, "the plan names a weight type");
    await searchSample(b.page);
    const report = await loaded(b.page);
    assertLoadedAsPlanned(report, choice);
    assert.equal(report.gpuDevices, 0);
  } finally {
    await b.close();
  }
});

// WebGPU on: the same check for the GPU (the person chose it; the plan keeps a software adapter on the CPU),
// then the registry's GPU behaviour, in one run so the slow software GPU indexes the corpus once. Whisper is
// cancelled while it decodes (Cancel stops it between two tokens), which also loads it on the shared device.
test("WebGPU on: the planned dtype runs; two GPU models share one device; a lost device drops them and the next use reloads them on a new one", async () => {
  const b = await launch(true, { tasks: { search: { backend: "gpu" }, transcribe: { backend: "gpu" } } });
  try {
    await b.page.goto(appUrl(app, "/device"));
    const choice = await planned(b.page, "search");
    assert.equal(choice.backend, "gpu");
    await searchSample(b.page);
    assertLoadedAsPlanned(await loaded(b.page), choice);
    await startTranscribeThenCancel(b.page);
    let report = await loaded(b.page);
    const onGpu = report.models.filter((m) => m.backend === "gpu");
    assert.deepEqual(onGpu.map((m) => m.variant).sort(), ["minilm-l6-v2", "whisper-tiny-random"], JSON.stringify(report));
    assert.ok(onGpu.every((m) => m.gpuDevice === "1"), `one device for both: ${JSON.stringify(onGpu)}`);
    assert.equal(report.gpuDevices, 1);

    // Inject the loss (the device is destroyed as a driver reset would).
    await go(b.page, "/device");
    await b.page.click("#gpu-reset");
    await b.page.waitForSelector("#gpu-reset-result", { timeout: 30_000 });
    // The next search notices the loss, loads MiniLM on a new device and answers.
    await go(b.page, "/search", `${models()}&c=sample&q=${encodeURIComponent("ocean tides and the moon")}`);
    await b.page.waitForFunction(() => /The Moon causes ocean tides/.test(document.querySelector("#hits li p")?.textContent || ""), null, { timeout: 180_000 });
    report = await loaded(b.page);
    assert.equal(report.gpuDevices, 2, JSON.stringify(report));
    const again = report.models.filter((m) => m.backend === "gpu");
    // Whisper went with the old device and has not been used since; MiniLM is on device 2.
    assert.deepEqual(again.map((m) => [m.variant, m.gpuDevice]), [["minilm-l6-v2", "2"]], JSON.stringify(report));
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a small memory budget keeps the most recently used model and drops the older one", async () => {
  // 90 MB holds MiniLM as q8_0 (the CPU plan) or the Whisper test checkpoint, not both.
  const b = await launch(false, { memory_budget_mb: 90 });
  try {
    await b.page.goto(appUrl(app, "/device"));
    const choice = await planned(b.page, "search");
    assert.equal(choice.dtype, "q8_0");
    await searchSample(b.page);
    let report = await loaded(b.page);
    assert.equal(report.budget, 90_000_000);
    const minilm = report.models.find((m) => m.variant === "minilm-l6-v2");
    assert.ok(minilm && minilm.bytes <= report.budget, JSON.stringify(report));
    await transcribeFile(b.page);
    report = await loaded(b.page);
    const held = report.models.map((m) => m.variant);
    assert.ok(held.includes("whisper-tiny-random"), JSON.stringify(report));
    assert.ok(!held.includes("minilm-l6-v2"), `MiniLM was evicted: ${JSON.stringify(report)}`);
    assert.ok(report.evictions >= 1);
    assert.ok(report.models.reduce((s, m) => s + m.bytes, 0) <= report.budget);
    // Searching again reloads it (and now Whisper makes room).
    await go(b.page, "/search", `${models()}&c=sample&q=${encodeURIComponent("making a loaf with natural yeast")}`);
    await b.page.waitForFunction(() => /Sourdough bread/.test(document.querySelector("#hits li p")?.textContent || ""), null, { timeout: 120_000 });
    report = await loaded(b.page);
    assert.deepEqual(report.models.map((m) => m.variant), ["minilm-l6-v2"], JSON.stringify(report));
  } finally {
    await b.close();
  }
});
