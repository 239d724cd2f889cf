// Fault injection: every failure Offgrid promises to survive, each injected into the real app in headless
// Chromium with the real MiniLM from a local mirror. For each: the message the person sees, that the app
// stays usable, that the job can be retried and then works, and that nothing already saved is lost (a
// saved collection in OPFS, a saved conversation in localStorage, the cached model files).
//
// Faults: the GPU device lost in the middle of a job (test hook), the worker killed mid-job (test hook:
// the worker ends without a word, as when the browser kills it), storage quota exceeded during a download
// (CDP's quota override), a damaged model file in Cache Storage, the network dropped mid-download, and the
// tab reloaded mid-download.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openApp } from "./lib/browser.mjs";
import { startServers, appUrl, cachedKeys, MINILM_ID, assertPlainError } from "./lib/app.mjs";

let servers;
before(async () => { servers = await startServers(); });
after(async () => { await servers?.close(); });

const row = `li.model[data-variant="${MINILM_ID}"]`;
const models = (mode = "good") => `models=${encodeURIComponent(servers.mirror.base(mode))}`;
const SAVED_CHATS_KEY = "offgrid-chat-conversations-v2";
const SAVED_CHATS = JSON.stringify({
  chats: [{ id: 7, messages: [{ role: "User", content: "Remember the lighthouse keeper" }, { role: "Assistant", content: "I will." }] }],
  current: 7,
});
// Many short passages, so building their index takes long enough to break in the middle.
const CORPUS = Array.from({ length: 160 }, (_, i) => `Note ${i}: the lighthouse keeper logged wind, tide and ${i % 7} passing ships.`).join("\n\n");

/** Chromium with a saved conversation already in localStorage (as the chat page stores it). */
async function launchWithSaved(options) {
  const b = await launch(options);
  await b.context.addInitScript(([key, value]) => {
    // about:blank (between pages) has no storage of its own.
    if (location.protocol.startsWith("http") && !localStorage.getItem(key)) localStorage.setItem(key, value);
  }, [SAVED_CHATS_KEY, SAVED_CHATS]);
  return b;
}

/** Builds the sample collection (the saved thing a fault must not lose) and returns the page. */
async function withSavedCollection(b) {
  const page = await openApp(b.context, appUrl(servers.app, "/search", `${models()}&c=sample`));
  await page.waitForSelector("#build-done", { timeout: 300_000 });
  return page;
}

/** What the person has saved: conversations, collections, cached model files. */
async function saved(page) {
  await page.evaluate(() => { location.hash = "#/search"; });
  await page.waitForSelector("li.collection", { timeout: 60_000 });
  return {
    chats: await page.evaluate((key) => localStorage.getItem(key), SAVED_CHATS_KEY),
    collections: await page.locator("li.collection").evaluateAll((lis) => lis.map((li) => li.dataset.collection).sort()),
    modelFiles: (await cachedKeys(page)).filter((k) => !/\.partial(\.\d+)?$/.test(k)).sort(),
  };
}

function assertKept(after, before) {
  assert.equal(after.chats, SAVED_CHATS, "the saved conversation is untouched");
  for (const name of before.collections) assert.ok(after.collections.includes(name), `collection ${name} is still saved`);
  for (const file of before.modelFiles) assert.ok(after.modelFiles.includes(file), `${file} is still cached`);
}

/** Starts building `name` from the first `passages` of the long corpus; resolves once indexing has begun. */
async function startBuild(page, name, passages = 160) {
  await page.fill("#collection-name", name);
  await page.fill("#corpus-text", CORPUS.split("\n\n").slice(0, passages).join("\n\n"));
  await page.click("text=Build index");
  await page.waitForSelector("#build-progress", { timeout: 120_000 });
}

/**
 * Starts building `name` from `passages` passages, posts `fault` on the app's test-hook channel (heard by the
 * engine worker) once indexing has begun, hands the build's error message to `check`, then clicks Retry and
 * waits until the whole collection is indexed.
 */
async function breakBuildAndRetry(page, name, passages, fault, check) {
  await startBuild(page, name, passages);
  await page.evaluate((f) => new BroadcastChannel("offgrid-test-hooks").postMessage(f), fault);
  const error = await page.waitForSelector(".build-status .job-status.error", { timeout: 120_000 });
  await check(await error.textContent());
  await page.click(".build-status button.retry");
  await page.waitForFunction(([n, count]) => new RegExp(`Indexed ${count} passages into "${n}"`).test(document.querySelector("#build-done")?.textContent ?? ""), [name, passages], { timeout: 300_000 });
}

test("the GPU lost in the middle of a job: the job says so, Retry builds on a new device, nothing saved is lost", async () => {
  const b = await launchWithSaved({ webgpu: true });
  try {
    // The saved collection is built as planned (SwiftShader is a software GPU, so on the CPU: quick).
    const page = await withSavedCollection(b);
    const before = await saved(page);
    // Then the GPU is chosen for search, as the Device page's override would, in a fresh page.
    await page.evaluate(() => localStorage.setItem("offgrid.overrides", JSON.stringify({ tasks: { search: { backend: "gpu" } } })));
    await page.goto("about:blank");
    await page.goto(appUrl(servers.app, "/device"));
    // Build only once the plan (with the override) is made, or the page would use its CPU default.
    await page.waitForSelector('li.plan-task[data-task=search][data-backend=gpu]', { timeout: 90_000 });
    await page.evaluate((q) => { location.hash = `#/search?${q}`; }, models());
    await breakBuildAndRetry(page, "gpu-notes", 48, "lose-gpu", (message) => {
      assert.match(assertPlainError(message, { mirrorSet: true }), /GPU stopped working.*Retry/s);
    });
    const after = await saved(page);
    assertKept(after, before);
    assert.ok(after.collections.includes("gpu-notes"), "the retried build was saved");
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("the worker killed mid-job: the page notices, restarts it, and Retry finishes the job; nothing saved is lost", async () => {
  const b = await launchWithSaved({ webgpu: false });
  try {
    const page = await withSavedCollection(b);
    const before = await saved(page);
    await page.evaluate((q) => { location.hash = `#/search?${q}`; }, models());
    await breakBuildAndRetry(page, "notes", 160, "exit", async (message) => {
      assert.match(message, /stopped unexpectedly/);
      // No crash message comes from a killed worker: the page learns of it through the worker's life lock.
      const banner = await page.waitForSelector(".banner-error", { timeout: 30_000 });
      assert.match(assertPlainError(await banner.textContent()), /stopped unexpectedly.*try again/s);
    });
    // The new worker answers searches too.
    await page.fill("#query", "ships seen from the lighthouse");
    await page.waitForSelector("#hits li", { timeout: 60_000 });
    const after = await saved(page);
    assertKept(after, before);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a damaged model file in Cache Storage is found on load, removed, and Retry downloads it again", async () => {
  const b = await launchWithSaved({ webgpu: false });
  try {
    const page = await withSavedCollection(b);
    const before = await saved(page);
    // Flip one byte of the cached weights, keeping the size (the size check alone would miss it).
    const key = before.modelFiles.find((k) => k.endsWith("/model.safetensors"));
    assert.ok(key, JSON.stringify(before.modelFiles));
    await page.evaluate(async (k) => {
      const cache = await caches.open("offgrid-models-v1");
      const old = await cache.match(k);
      const bytes = new Uint8Array(await old.arrayBuffer());
      bytes[bytes.length - 1000] ^= 0xff;
      await cache.put(k, new Response(bytes, { headers: old.headers }));
    }, key);
    // A fresh page, so the worker reads the file again (it keeps loaded models in memory); a hash-only
    // change would keep the same document and worker.
    const asked = servers.mirror.log.length;
    await page.goto("about:blank");
    await page.goto(appUrl(servers.app, "/search", `${models()}&c=sample&q=${encodeURIComponent("why the sea rises twice a day")}`));
    const error = await page.waitForSelector(".job-status.error", { timeout: 120_000 });
    assert.match(assertPlainError(await error.textContent(), { mirrorSet: true }), /saved copy of model\.safetensors .* was damaged .*removed.*Retry/s);
    await page.click(".job-status.error button.retry");
    await page.waitForFunction(() => /The Moon causes ocean tides/.test(document.querySelector("#hits li p")?.textContent || ""), null, { timeout: 180_000 });
    assert.ok(servers.mirror.log.slice(asked).some((r) => r.filePath === "model.safetensors"), "the damaged file was downloaded again");
    assertKept(await saved(page), before);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

/** The Models page with `mode`'s mirror, after the saved things exist. */
async function modelsPageAfterSaving(b, mode) {
  const page = await withSavedCollection(b);
  const before = await saved(page);
  // Drop the model files so there is something to download (the saved collection stays).
  await page.evaluate(() => caches.delete("offgrid-models-v1"));
  before.modelFiles = [];
  await page.goto(appUrl(servers.app, "/models", models(mode)));
  await page.waitForSelector(row);
  return { page, before };
}

/** Waits until a piece of the unfinished download is saved; returns its keys. */
async function waitForSavedPiece(page) {
  for (let i = 0; i < 600; i++) {
    const pieces = (await cachedKeys(page)).filter((k) => /model\.safetensors\.partial/.test(k));
    if (pieces.length > 0) return pieces;
    await page.waitForTimeout(100);
  }
  throw new Error("no piece of the download was saved");
}

/** The Models row's state once the worker's report says part of the model is saved. */
async function waitForPartlyDownloaded(page) {
  const state = await page.waitForFunction((sel) => {
    const text = document.querySelector(sel)?.textContent ?? "";
    return /Partly downloaded/.test(text) && text;
  }, `${row} .model-state`, { timeout: 30_000 });
  return state.jsonValue();
}

/** The Range start of the first request for the weights after log position `from`. */
function resumedAt(from) {
  const resumed = servers.mirror.log.slice(from).find((r) => r.filePath === "model.safetensors");
  return Number(/^bytes=(\d+)-$/.exec(resumed?.range ?? "")?.[1] ?? 0);
}

test("storage quota exceeded during a download: a clear message, the saved part kept, Retry resumes once there is room", async () => {
  const b = await launchWithSaved({ webgpu: false });
  try {
    const { page, before } = await modelsPageAfterSaving(b, "slow");
    const cdp = await b.context.newCDPSession(page);
    const origin = new URL(servers.app.url).origin;
    await page.click(`${row} button.download`);
    await waitForSavedPiece(page);
    // The disk fills up: only 1 MB more fits, and the next 8 MB piece does not.
    const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage);
    await cdp.send("Storage.overrideQuotaForOrigin", { origin, quotaSize: usage + 1_000_000 });
    const error = await page.waitForSelector(`${row} .job-status.error`, { timeout: 120_000 });
    assert.match(assertPlainError(await error.textContent(), { mirrorSet: true }), /storage ran out while downloading model\.safetensors\. The [\d.]+ MB saved so far are kept/);
    // Room again (the person deleted something): Retry resumes from the saved part.
    await cdp.send("Storage.overrideQuotaForOrigin", { origin });
    const asked = servers.mirror.log.length;
    await page.click(`${row} button.retry`);
    await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    assert.ok(resumedAt(asked) >= 8 << 20, "the retry resumed after the saved piece");
    assertKept(await saved(page), before);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("the network dropped mid-download: the message says what is kept, Retry resumes once it is back", async () => {
  const b = await launchWithSaved({ webgpu: false });
  try {
    const { page, before } = await modelsPageAfterSaving(b, "drop");
    await page.click(`${row} button.download`);
    // The download tries again a few times, then says so.
    const error = await page.waitForSelector(`${row} .job-status.error`, { timeout: 120_000 });
    assert.match(assertPlainError(await error.textContent(), { mirrorSet: true }), /could not reach your model mirror.*The [\d.]+ MB of [\d.]+ MB already downloaded is kept/s);
    assert.ok(servers.mirror.state.down);
    // The page stays usable meanwhile: another route renders.
    await page.evaluate(() => { location.hash = "#/device"; });
    await page.waitForSelector("main h1");
    await page.goto(appUrl(servers.app, "/models", models("drop")));
    await waitForPartlyDownloaded(page);
    servers.mirror.state.down = false;
    const asked = servers.mirror.log.length;
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    assert.ok(resumedAt(asked) > 0, "the retry resumed where the connection broke");
    assertKept(await saved(page), before);
    assert.deepEqual(b.errors, []);
  } finally {
    servers.mirror.state.down = false;
    await b.close();
  }
});

test("the tab reloaded mid-download: the Models page shows the saved part and the download resumes from it", async () => {
  const b = await launchWithSaved({ webgpu: false });
  try {
    const { page, before } = await modelsPageAfterSaving(b, "slow");
    await page.click(`${row} button.download`);
    await waitForSavedPiece(page);
    await page.reload();
    assert.match(await waitForPartlyDownloaded(page), /Partly downloaded \([\d.]+ MB of [\d.]+ MB\); the download resumes where it stopped/);
    assert.equal(await page.textContent(`${row} button.download`), "Resume download");
    const asked = servers.mirror.log.length;
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    assert.ok(resumedAt(asked) >= 8 << 20, "the download resumed after the saved piece");
    assertKept(await saved(page), before);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
