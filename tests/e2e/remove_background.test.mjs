// Remove background in the browser: IS-Net (imgly's fp16 ONNX, unpacked by scripts/fetch-test-weights.sh from
// npm; a test file, so it is asked for with ?model=) comes from a local mirror, is verified against the
// catalog's SHA-256 and cuts a real photo out, with WebGPU on and off. The exported PNG's alpha must equal the
// CLI's (engine/tests/fixtures/isnet/chelsea_cli_alpha.png, which cli/tests/remove_background.rs checks the CLI
// against). No request may carry the photo; offline, after a reload, the cached model cuts it out again; a file
// that is not an image gets a reason and leaves the finished cut-out in place.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startAppServer, startMirror } from "./lib/servers.mjs";
import { DIST, ROOT, appUrl, cachedKeys, assertPlainError } from "./lib/app.mjs";
import { launchVoice, FIXTURES } from "./lib/voice.mjs";
import { recordUploads, waitForServiceWorker } from "./lib/browser.mjs";

const REPO = "offgrid-test/isnet-imgly-medium";
const WEIGHTS = path.join(ROOT, ".cache/weights/isnet-imgly");
const PHOTO = path.join(FIXTURES, "isnet/photos/chelsea.png");
const CLI_ALPHA = path.join(FIXTURES, "isnet/chelsea_cli_alpha.png");

let app;
before(async () => {
  if (!fs.existsSync(path.join(WEIGHTS, "model_fp16.onnx"))) {
    throw new Error("the IS-Net test file is missing: run scripts/fetch-test-weights.sh");
  }
  app = await startAppServer(DIST);
});
after(async () => { await app?.close(); });

/** The alpha channel of a PNG (bytes as base64), decoded by the browser. */
async function alphaOf(page, base64) {
  return page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const bitmap = await createImageBitmap(new Blob([bytes], { type: "image/png" }), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
    const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0);
    const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    // Greyscale PNGs (the CLI's mask) decode to R = G = B; cut-outs carry the value in A.
    const grey = data.every((v, i) => i % 4 !== 3 || v === 255);
    const out = [];
    for (let i = 0; i < data.length; i += 4) out.push(grey ? data[i] : data[i + 3]);
    return { width: bitmap.width, height: bitmap.height, alpha: out };
  }, base64);
}

async function cutOut(page) {
  await page.setInputFiles("#photo-input", PHOTO);
  await page.waitForSelector(".cutout-card[data-state=done], .cutout-card[data-state=failed]", { timeout: 540_000 });
  const failed = await page.$(".cutout-card[data-state=failed]");
  assert.equal(failed, null, failed && (await failed.textContent()));
  const href = await page.getAttribute(".cutout-card[data-state=done] a.download-png", "href");
  const b64 = await page.evaluate(async (url) => {
    const buf = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let s = "";
    for (const b of buf) s += String.fromCharCode(b);
    return btoa(s);
  }, href);
  return alphaOf(page, b64);
}

function compareWithCli(got, want, what) {
  assert.equal(got.width, want.width, what);
  assert.equal(got.height, want.height, what);
  let worst = 0, sum = 0;
  for (let i = 0; i < want.alpha.length; i++) {
    const d = Math.abs(got.alpha[i] - want.alpha[i]);
    worst = Math.max(worst, d);
    sum += d;
  }
  const mean = sum / want.alpha.length;
  assert.ok(worst <= 3 && mean < 0.5, `${what}: alpha differs from the CLI's by up to ${worst} levels (mean ${mean})`);
}

for (const webgpu of [false, true]) {
  test(`a photo is cut out as the CLI does it (WebGPU ${webgpu ? "on" : "off"})`, { timeout: 900_000 }, async () => {
    const mirror = await startMirror({ [REPO]: WEIGHTS });
    const b = await launchVoice({ webgpu });
    const uploads = recordUploads(b.context, [], [new URL(app.url).origin, new URL(mirror.base("good")).origin]);
    try {
      const query = `model=isnet-imgly-medium&models=${encodeURIComponent(mirror.base("good"))}`;
      await b.page.goto(appUrl(app, "/remove-background", query));
      await b.page.waitForSelector("#model-choice[data-variant=isnet-imgly-medium]", { timeout: 90_000 });
      const want = await alphaOf(b.page, fs.readFileSync(CLI_ALPHA).toString("base64"));
      compareWithCli(await cutOut(b.page), want, "first run");
      const keys = await cachedKeys(b.page);
      assert.ok(keys.some((k) => k.includes(REPO) && k.endsWith("model_fp16.onnx")), "model cached");
      assert.deepEqual(uploads, [], "no request carries anything out");
      // A file that is not an image: a reason, and the finished cut-out stays.
      const notes = path.join(path.dirname(b.userDataDir), `notes-${process.pid}.png`);
      fs.writeFileSync(notes, "shopping list");
      await b.page.setInputFiles("#photo-input", notes);
      const failed = await b.page.waitForSelector(".cutout-card[data-state=failed]", { timeout: 60_000 });
      assert.match(assertPlainError(await failed.textContent(), { mirrorSet: true }), /not an image Offgrid can open/);
      assert.equal((await b.page.$$(".cutout-card[data-state=done]")).length, 1);
      fs.rmSync(notes, { force: true });
      await b.shot(`remove-background-${webgpu ? "webgpu" : "cpu"}`);
      if (!webgpu) {
        // Offline: the mirror is gone; after a reload the model comes from the cache.
        await waitForServiceWorker(b.page);
        await mirror.close();
        await b.page.reload();
        await b.page.waitForSelector("#model-choice[data-variant=isnet-imgly-medium]", { timeout: 90_000 });
        compareWithCli(await cutOut(b.page), want, "offline");
        assert.deepEqual(uploads, [], "no request carries anything out");
      }
    } finally {
      await b.close();
      await mirror.close().catch(() => {});
    }
  });
}

test("a photo shared from another app is cut out (Web Share Target through the service worker)", { timeout: 900_000 }, async () => {
  const mirror = await startMirror({ [REPO]: WEIGHTS });
  const b = await launchVoice({ webgpu: false });
  try {
    const query = `model=isnet-imgly-medium&models=${encodeURIComponent(mirror.base("good"))}`;
    await b.page.goto(appUrl(app, "/remove-background", query));
    await b.page.waitForSelector("#model-choice[data-variant=isnet-imgly-medium]", { timeout: 90_000 });
    await waitForServiceWorker(b.page);
    // A share opens the page without our query: the model and the mirror come from the saved choices, as
    // a person would have set them on the Device and Models pages (developer mode lists test checkpoints).
    await b.page.evaluate((mirror) => {
      localStorage.setItem("offgrid.developer", "1");
      localStorage.setItem("offgrid.overrides", JSON.stringify({ tasks: { "remove-background": { variant: "isnet-imgly-medium" } } }));
      localStorage.setItem("offgrid.mirror", mirror);
    }, mirror.base("good"));
    // What the system does for a share: a multipart POST to the manifest's share_target action.
    await b.page.evaluate(() => {
      const form = document.createElement("form");
      form.method = "POST";
      form.enctype = "multipart/form-data";
      form.action = "share-target";
      form.id = "share-form";
      const input = document.createElement("input");
      input.type = "file";
      input.name = "image";
      form.append(input);
      document.body.append(form);
    });
    await b.page.setInputFiles("#share-form input", PHOTO);
    await Promise.all([b.page.waitForURL(/#\/remove-background/), b.page.evaluate(() => document.getElementById("share-form").submit())]);
    // The page took the file (and dropped ?shared= from the URL), and cuts it out with the saved model.
    const card = await b.page.waitForSelector(".cutout-card[data-state=done], .cutout-card[data-state=failed]", { timeout: 540_000 });
    assert.equal(await card.getAttribute("data-state"), "done", await card.textContent());
    assert.equal(await card.getAttribute("data-name"), "chelsea.png");
    assert.ok(!b.page.url().includes("shared="), b.page.url());
  } finally {
    await b.close();
    await mirror.close().catch(() => {});
  }
});
