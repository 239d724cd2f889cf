// Offline app shell and the update flow of the service worker.
import { test } from "node:test";
import assert from "node:assert/strict";
import { launch, openApp, waitForServiceWorker } from "./lib/browser.mjs";
import { startServers, appUrl } from "./lib/app.mjs";
import { startAppServer } from "./lib/servers.mjs";

test("after one visit the app loads with the server gone", async () => {
  const servers = await startServers();
  const browser = await launch();
  try {
    const page = await openApp(browser.context, appUrl(servers.app, "/device"));
    await waitForServiceWorker(page);
    const before = servers.app.state.requests;
    await servers.app.close(); // truly offline for this origin
    await page.reload();
    await page.waitForSelector("main h1", { timeout: 30_000 });
    assert.equal(await page.textContent("main h1"), "Device");
    // The engine worker also starts offline (its scripts come from the shell cache) and answers the probe.
    await page.waitForSelector("#plan, #no-webgpu, #adapter", { timeout: 60_000 });
    await page.goto(appUrl(servers.app, "/models"));
    await page.waitForSelector("main h1");
    assert.equal(await page.textContent("main h1"), "Models");
    assert.ok(before > 0);
  } finally {
    await browser.close();
    await servers.mirror.close();
  }
});

test("a waiting service worker shows 'New version available' and Reload activates it", async () => {
  const servers = await startServers();
  const browser = await launch();
  try {
    const page = await openApp(browser.context, appUrl(servers.app, "/"));
    await waitForServiceWorker(page);
    assert.equal(await page.isVisible("#update-banner"), false);
    servers.app.state.swSuffix = "a new version";
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    await page.waitForSelector("#update-banner", { timeout: 30_000 });
    assert.match(await page.textContent("#update-banner"), /New version available/);
    const oldScript = await page.evaluate(() => navigator.serviceWorker.controller.scriptURL);
    await Promise.all([page.waitForEvent("load", { timeout: 30_000 }), page.click("#update-banner button")]);
    await page.waitForSelector("main h1");
    const waiting = await page.evaluate(async () => Boolean((await navigator.serviceWorker.getRegistration()).waiting));
    assert.equal(waiting, false, "the new worker took over");
    assert.ok(oldScript.endsWith("sw.js"));
    // Old shell caches are gone; exactly one remains.
    const shells = await page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith("offgrid-shell-")));
    assert.equal(shells.length, 1);
  } finally {
    await browser.close();
    await servers.close();
  }
});

// Keep the import used: a second app server proves nothing is hard-wired to one origin or prefix.
test("the built site works under another path prefix", async () => {
  const { DIST } = await import("./lib/app.mjs");
  const other = await startAppServer(DIST, "/some/deeper/prefix/");
  const browser = await launch();
  try {
    const page = await openApp(browser.context, `${other.url}#/models`);
    assert.equal(await page.textContent("main h1"), "Models");
  } finally {
    await browser.close();
    await other.close();
  }
});
