// Semantic search end to end: the real all-MiniLM-L6-v2 (from PyPI) through a local mirror, the index
// built in the worker, top results checked for several queries, with WebGPU and with WebGPU disabled;
// persistence across reloads and offline; shared links; bad input.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launch, openApp, waitForServiceWorker } from "./lib/browser.mjs";
import { startServers, appUrl } from "./lib/app.mjs";

let servers;
before(async () => { servers = await startServers(); });
after(async () => { await servers?.close(); });

// Queries in other words than the passages, and the passage each must find first.
const EXPECTED = [
  ["how do plants turn light into food", /Photosynthesis/],
  ["which organ moves blood around the body", /The heart is a muscular organ/],
  ["why does the sea rise and fall each day", /The Moon causes ocean tides/],
  ["making a loaf with natural yeast", /Sourdough bread/],
  ["how many hours should grown-ups sleep", /Sleep is when the brain/],
];

async function topResult(page, query) {
  await page.fill("#query", query);
  await page.waitForFunction((q) => {
    const hits = document.querySelector("#hits");
    return hits && new URL(location.href).hash.includes(encodeURIComponent(q).slice(0, 10)) && hits.children.length > 0;
  }, query, { timeout: 60_000 });
  // The results shown are for this query once the page stops changing.
  await page.waitForTimeout(600);
  return page.textContent("#hits li:first-child p");
}

for (const webgpu of [true, false]) {
  test(`sample corpus: index built in the worker and top results right (WebGPU ${webgpu ? "on" : "off"})`, async () => {
    const browser = await launch({ webgpu });
    try {
      const query = `models=${encodeURIComponent(servers.mirror.base("good"))}&c=sample`;
      const page = await openApp(browser.context, appUrl(servers.app, "/search", query));
      // A shared link to the sample collection builds it on first open (download, then indexing).
      await page.waitForSelector("#build-done", { timeout: 240_000 });
      assert.match(await page.textContent("#build-done"), /Indexed 26 passages into "sample"/);
      for (const [q, expected] of EXPECTED) {
        assert.match(await topResult(page, q), expected, q);
      }
      assert.ok((await page.locator("#hits mark").count()) > 0, "matching words are highlighted");
      // Shareable: the URL carries collection and query.
      assert.match(page.url(), /#\/search\?.*c=sample.*q=how/);
    } finally {
      await browser.close();
    }
  });
}

test("collections persist: a shared link reopens the same search after reload and offline", async () => {
  const own = await startServers(); // its mirror goes away mid-test
  const browser = await launch({ webgpu: false });
  try {
    const base = `models=${encodeURIComponent(own.mirror.base("good"))}`;
    const page = await openApp(browser.context, appUrl(own.app, "/search", `${base}&c=sample`));
    await page.waitForSelector("#build-done", { timeout: 240_000 });
    await waitForServiceWorker(page);
    await own.mirror.close(); // the model must now come from the cache
    const shared = appUrl(own.app, "/search", `${base}&c=sample&q=${encodeURIComponent("volcano eruptions")}`);
    await page.goto(shared);
    await page.waitForSelector("#hits li", { timeout: 120_000 });
    assert.match(await page.textContent("#hits li:first-child p"), /Volcanoes form/);
    assert.equal(await page.inputValue("#query"), "volcano eruptions");
  } finally {
    await browser.close();
    await own.app.close();
  }
});

test("bad input: empty corpus, binary file, huge file, over-long passage; the page stays usable", async () => {
  const browser = await launch({ webgpu: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offgrid-corpus-"));
  try {
    const query = `models=${encodeURIComponent(servers.mirror.base("good"))}`;
    const page = await openApp(browser.context, appUrl(servers.app, "/search", query));
    await page.fill("#collection-name", "notes");
    await page.click("text=Build index");
    assert.match(await page.textContent(".new-collection .error"), /corpus is empty/);

    const binary = path.join(dir, "photo.txt");
    fs.writeFileSync(binary, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 13]));
    await page.setInputFiles("#corpus-files", binary);
    await page.waitForFunction(() => document.querySelector(".new-collection .error").textContent.includes("not a text file"));

    const latin1 = path.join(dir, "old.txt");
    fs.writeFileSync(latin1, Buffer.from("caf\xe9 cr\xe8me", "latin1"));
    await page.setInputFiles("#corpus-files", latin1);
    await page.waitForFunction(() => document.querySelector(".new-collection .error").textContent.includes("not UTF-8"));

    const huge = path.join(dir, "huge.txt");
    fs.writeFileSync(huge, "word ".repeat(10_500_000));
    await page.setInputFiles("#corpus-files", huge);
    await page.waitForFunction(() => document.querySelector(".new-collection .error").textContent.includes("MB"));

    const long = path.join(dir, "long.md");
    fs.writeFileSync(long, `Short passage about cats.\n\n${"A very long passage about the history of clocks. ".repeat(120)}\n`);
    await page.setInputFiles("#corpus-files", long);
    await page.waitForFunction(() => document.querySelector("#passage-count").textContent === "2 passages");
    await page.click("text=Build index");
    await page.waitForSelector("#build-done", { timeout: 240_000 });
    assert.match(await page.textContent("#build-done"), /1 passages were longer than the model reads/);
    await page.fill("#query", "timekeeping devices");
    await page.waitForSelector("#hits li", { timeout: 60_000 });
    assert.match(await page.textContent("#hits li:first-child p"), /clocks/);
  } finally {
    await browser.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
