// The hardware probe: with WebGPU the Device page shows the adapter (read in the worker); without it,
// every task is planned on the CPU. Overrides persist. The engine runs in the worker on both backends.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { launch, openApp } from "./lib/browser.mjs";
import { startServers, appUrl, assertPlainError } from "./lib/app.mjs";

let servers;
before(async () => { servers = await startServers(); });
after(async () => { await servers?.close(); });

test("with WebGPU the Device page shows the adapter, and the engine runs on the GPU and the CPU", async () => {
  const browser = await launch({ webgpu: true });
  try {
    const page = await openApp(browser.context, appUrl(servers.app, "/device"));
    await page.waitForSelector("#adapter", { timeout: 90_000 });
    const adapter = await page.textContent("#adapter");
    assert.match(adapter, /swiftshader/i, "headless Chromium's WebGPU adapter is SwiftShader");
    assert.match(adapter, /maxStorageBufferBindingSize/);
    const checksums = {};
    for (const backend of ["GPU", "CPU"]) {
      await page.click(`text=Test on ${backend}`);
      await page.waitForSelector("#selftest-result", { timeout: 120_000 });
      const text = await page.textContent("#selftest-result");
      assert.match(text, new RegExp(`on the ${backend} in`));
      checksums[backend] = Number(text.match(/checksum (-?[\d.]+)/)?.[1]);
      await page.evaluate(() => document.querySelector("#selftest-result")?.remove());
    }
    // The same workload gives the same checksum on both backends (finite: the values stay bounded).
    assert.ok(Number.isFinite(checksums.CPU) && checksums.CPU > 0, JSON.stringify(checksums));
    assert.ok(Math.abs(checksums.GPU - checksums.CPU) <= 1e-3 * checksums.CPU, JSON.stringify(checksums));
  } finally {
    await browser.close();
  }
});

test("without WebGPU every task is planned on the CPU, and a CPU override persists", async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await openApp(browser.context, appUrl(servers.app, "/device"));
    await page.waitForSelector("#no-webgpu", { timeout: 90_000 });
    await page.waitForSelector("#plan");
    const backends = await page.locator(".plan-task .plan-backend").allTextContents();
    assert.equal(backends.length, 6);
    assert.ok(backends.every((b) => b.startsWith("CPU")), backends.join(", "));
    await page.selectOption("#backend-search", "cpu");
    await page.reload();
    await page.waitForSelector("#plan", { timeout: 90_000 });
    assert.equal(await page.inputValue("#backend-search"), "cpu");
  } finally {
    await browser.close();
  }
});

test("cancelling a running engine job ends it as cancelled", async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await openApp(browser.context, appUrl(servers.app, "/device"));
    await page.click("text=Test on CPU");
    await page.waitForSelector(".selftest progress", { timeout: 60_000 });
    await page.click(".selftest .job-status button");
    await page.waitForSelector(".selftest >> text=Cancelled", { timeout: 30_000 });
    assert.equal(await page.isVisible("#selftest-result"), false);
  } finally {
    await browser.close();
  }
});

test("a crashed engine worker is reported and replaced by a working one", async () => {
  const browser = await launch({ webgpu: false });
  try {
    const page = await openApp(browser.context, appUrl(servers.app, "/device"));
    await page.waitForSelector("#plan", { timeout: 90_000 });
    const worker = page.workers().find((w) => w.url().includes("engine-worker"));
    assert.ok(worker, `engine worker among ${page.workers().map((w) => w.url()).join(", ")}`);
    // An uncaught error in the worker's global scope, as a crash inside the engine would raise.
    await worker.evaluate(() => setTimeout(() => { throw new Error("simulated crash"); }, 0));
    await page.waitForSelector(".banner-error", { timeout: 30_000 });
    assert.match(assertPlainError(await page.textContent(".banner-error")), /engine worker stopped.*restarted/i);
    // The new worker answers.
    await page.click("text=Test on CPU");
    await page.waitForSelector("#selftest-result", { timeout: 120_000 });
  } finally {
    await browser.close();
  }
});

test("the Models and Device pages agree on the weight type that runs, the download size and the storage used", async () => {
  const browser = await launch({ webgpu: false });
  try {
    const query = `models=${encodeURIComponent(servers.mirror.base("good"))}`;
    const page = await openApp(browser.context, appUrl(servers.app, "/models", query));
    const row = "li.model[data-variant=minilm-l6-v2]";
    await page.click(`${row} button.download`);
    await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    // The Models page's figures once the download is in: the type that runs here, its size, storage.
    await page.waitForFunction(() => /used of/.test(document.querySelector("#storage")?.textContent ?? ""));
    const models = {
      dtype: await page.getAttribute(row, "data-dtype"),
      size: await page.getAttribute(row, "data-size"),
      meta: await page.textContent(`${row} .meta`),
      storage: await page.textContent("#storage"),
    };
    await page.evaluate(() => { location.hash = "#/device"; });
    await page.waitForSelector("#plan", { timeout: 90_000 });
    const search = ".plan-task[data-task=search]";
    assert.equal(await page.getAttribute(search, "data-variant"), "minilm-l6-v2");
    const device = {
      dtype: await page.getAttribute(search, "data-dtype"),
      reasons: await page.textContent(`${search} .reasons`),
    };
    await page.waitForFunction(() => /used of/.test(document.querySelector("#storage")?.textContent ?? ""));
    // Without WebGPU the plan runs MiniLM as q8_0: both pages say so (Models adds what the files store).
    assert.equal(device.dtype, "q8_0");
    assert.equal(models.dtype, device.dtype);
    assert.match(models.meta, /stored as f32, runs as q8_0 on this device/);
    assert.ok(device.reasons.includes(models.size), `the plan's download size ${models.size} is in: ${device.reasons}`);
    assert.equal(await page.textContent("#storage"), models.storage);
    assert.doesNotMatch(models.storage, /^0 bytes/);
  } finally {
    await browser.close();
  }
});
