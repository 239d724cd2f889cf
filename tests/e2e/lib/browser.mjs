// Launches Debian's Chromium (never a downloaded browser) headless, with or without WebGPU.
import { chromium } from "playwright-core";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const ARTIFACTS = path.resolve(process.env.TEST_ARTIFACTS || path.join(import.meta.dirname, "../../../test-artifacts"));
fs.mkdirSync(ARTIFACTS, { recursive: true });

const COMMON = [
  "--no-sandbox",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--no-first-run",
  "--disable-dev-shm-usage",
];

/** A persistent context (service workers and Cache Storage need a profile) in a fresh profile dir. */
export async function launch({ webgpu = true } = {}) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "offgrid-chromium-"));
  const args = [...COMMON, ...(webgpu ? ["--enable-unsafe-webgpu"] : ["--disable-features=WebGPU,WebGPUService", "--disable-webgpu"])];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args,
    viewport: { width: 1440, height: 900 },
  });
  const errors = [];
  context.on("weberror", (e) => errors.push(String(e.error())));
  return {
    context,
    errors,
    async close() {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens a page and waits until the app has rendered its shell. */
export async function openApp(context, url) {
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error" && process.env.E2E_VERBOSE) console.log("[page]", m.text());
  });
  await page.goto(url);
  await page.waitForSelector("main h1", { timeout: 60_000 });
  return page;
}

/** Waits until a service worker controls the page and has finished precaching. */
export async function waitForServiceWorker(page) {
  await page.evaluate(async () => {
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => navigator.serviceWorker.addEventListener("controllerchange", resolve, { once: true }));
    }
    return reg.active.state;
  });
}

/**
 * Records every request of `context` (the page's, the engine worker's, the service worker's as far as the
 * browser reports them) that could carry something out: any method but GET/HEAD, any request with a body,
 * any URL holding one of `secrets` (e.g. a word of typed text), and, when `origins` is given, any request to
 * an origin not in it (the app's own and the model source's). The list must stay empty.
 */
export function recordUploads(context, secrets = [], origins = null) {
  const uploads = [];
  context.on("request", (r) => {
    const body = r.postDataBuffer();
    if (r.method() !== "GET" && r.method() !== "HEAD" || (body && body.length > 0)) uploads.push(`${r.method()} ${r.url()}`);
    for (const s of secrets) if (r.url().includes(s)) uploads.push(`"${s}" in a URL: ${r.url()}`);
    const url = new URL(r.url());
    if (origins && /^(https?|wss?):$/.test(url.protocol) && !origins.includes(url.origin)) uploads.push(`to another origin: ${r.url()}`);
  });
  return uploads;
}
