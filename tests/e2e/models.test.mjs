// The model store, end to end: real files (all-MiniLM-L6-v2 from PyPI) from a local mirror in the
// Hub layout, into Cache Storage, through the engine worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openApp } from "./lib/browser.mjs";
import { startServers, appUrl, cachedKeys, MINILM_ID, assertPlainError } from "./lib/app.mjs";

let servers;
before(async () => { servers = await startServers(); });
after(async () => { await servers?.close(); });

const row = `li.model[data-variant="${MINILM_ID}"]`;

async function modelsPage(browser, mode) {
  const query = `models=${encodeURIComponent(servers.mirror.base(mode))}`;
  const page = await openApp(browser.context, appUrl(servers.app, "/models", query));
  await page.waitForSelector(row);
  return page;
}

test("a download shows progress, verifies, and ends cached; delete removes it", async () => {
  const browser = await launch();
  try {
    const page = await modelsPage(browser, "slow");
    await page.click(`${row} button.download`);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.startsWith("Downloading model.safetensors"), `${row} .job-label`, { timeout: 30_000 });
    const label = await page.textContent(`${row} .job-label`);
    assert.match(label, /Downloading model\.safetensors: .* of 91\.\d MB/);
    assert.ok(await page.isVisible(`${row} progress`));
    await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    // The row's state is re-read from the cache after the job ends (a second worker request), so wait for it.
    await page.waitForFunction((sel) => /Downloaded/.test(document.querySelector(sel)?.textContent ?? ""), `${row} .model-state`, { timeout: 15_000 });
    assert.match(await page.textContent(`${row} .model-state`), /^Downloaded \(9\d(\.\d)? MB\), works offline$/);
    const keys = await cachedKeys(page);
    assert.equal(keys.filter((k) => !k.endsWith(".partial")).length, 4, keys.join("\n"));
    await page.click(`${row} button.delete`);
    await page.waitForFunction((sel) => document.querySelector(sel)?.textContent.includes("Not downloaded"), `${row} .model-state`);
    assert.deepEqual(await cachedKeys(page), []);
  } finally {
    await browser.close();
  }
});

test("a file with the wrong hash gives a clear error and is not cached", async () => {
  const browser = await launch();
  try {
    const page = await modelsPage(browser, "corrupt");
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .job-status.error`, { timeout: 120_000 });
    assert.match(assertPlainError(await page.textContent(`${row} .job-status.error`), { mirrorSet: true }), /model\.safetensors was corrupted.*not saved/);
    const keys = await cachedKeys(page);
    assert.ok(!keys.some((k) => k.endsWith("/model.safetensors")), keys.join("\n"));
  } finally {
    await browser.close();
  }
});

test("an interrupted download resumes with a Range request and verifies", async () => {
  const browser = await launch();
  try {
    const page = await modelsPage(browser, "flaky");
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    const ranged = servers.mirror.log.filter((r) => r.mode === "flaky" && r.filePath === "model.safetensors" && r.range);
    assert.ok(ranged.length >= 1, "the second request asked for the rest");
    assert.notEqual(ranged[0].range, "bytes=0-");
    assert.ok((await cachedKeys(page)).some((k) => k.endsWith("/model.safetensors")));
  } finally {
    await browser.close();
  }
});

test("cancel mid-download stops it, keeps the partial file, and a retry resumes", async () => {
  const browser = await launch();
  try {
    const page = await modelsPage(browser, "slow");
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} progress`, { timeout: 30_000 });
    await page.waitForTimeout(1500);
    await page.click(`${row} .job-status button`);
    await page.waitForSelector(`${row} >> text=Cancelled`, { timeout: 30_000 });
    assert.ok((await cachedKeys(page)).some((k) => k.endsWith("model.safetensors.partial")));
    const before = servers.mirror.log.length;
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    const resumed = servers.mirror.log.slice(before).find((r) => r.filePath === "model.safetensors");
    assert.ok(resumed?.range, "the retry resumed with Range");
  } finally {
    await browser.close();
  }
});

test("404, CORS refusal and a bad mirror URL each give a clear message and the page stays usable", async () => {
  const browser = await launch();
  try {
    let page = await modelsPage(browser, "missing");
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .job-status.error`, { timeout: 60_000 });
    assert.match(assertPlainError(await page.textContent(`${row} .job-status.error`), { mirrorSet: true }), /not on the model source \(HTTP 404/);

    page = await modelsPage(browser, "nocors");
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .job-status.error`, { timeout: 90_000 });
    // Plain words: which mirror, what may be wrong, what to do; no CORS or TypeError jargon.
    const unreachable = assertPlainError(await page.textContent(`${row} .job-status.error`), { mirrorSet: true });
    assert.match(unreachable, /could not reach your model mirror \(http:\/\/127\.0\.0\.1:\d+\/nocors\).*Check the mirror on the Models page, then retry/);
    assert.doesNotMatch(unreachable, /CORS|TypeError|Failed to fetch/);
    assert.ok(await page.isVisible(`${row} .job-status button.retry`), "a Retry button");

    await page.fill("#mirror-url", "ftp://example.org/models");
    await page.click("form.mirror button");
    assert.match(await page.textContent("#mirror-error"), /must start with http:\/\/ or https:\/\//);
    await page.click("text=Device");
    await page.waitForSelector("main h1 >> text=Device");
  } finally {
    await browser.close();
  }
});
