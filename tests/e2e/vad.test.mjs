// Voice activity (#/vad) in headless Chromium with the real engine worker and the bundled Silero VAD:
// file upload (WAV through hound in the worker, other formats through decodeAudioData), drag and drop,
// 8 kHz / 96 kHz input, a fake microphone (Chromium plays a WAV as the capture device), with WebGPU on and
// off, and every failure the page must explain: mic refused, no mic, mic gone, silence, corrupt WAV,
// unsupported codec.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startServers, appUrl } from "./lib/app.mjs";
import {
  VAD_WAV, VAD_EXPECTED, makeSpeech, launchVoice, scratch, sh, dropFile, spansOf, KEEP_STREAMS, NO_MIC,
} from "./lib/voice.mjs";

const WORK = scratch();
const SPEECH = makeSpeech(WORK);
const ROWS = ".segments li.segment";
// The settings vad_expected.json was made with (frames of 32 ms: redemption 8, padding 3, minimum 4).
const s = VAD_EXPECTED.settings;
const REFERENCE_QUERY = `pos=${s.positive_threshold}&neg=${s.negative_threshold}&red=${s.redemption_frames * 32}&pad=${s.pre_speech_pad_frames * 32}&min=${s.min_speech_frames * 32}`;

let servers;
before(async () => { servers = await startServers(); });
after(async () => { await servers?.close(); fs.rmSync(WORK, { recursive: true, force: true }); });

async function openVad(b, query = "") {
  // A hash-only change would not reload: start from a blank page so each open is a fresh app.
  if (b.page.url() !== "about:blank") await b.page.goto("about:blank");
  await b.page.goto(appUrl(servers.app, "/vad", query));
  await b.page.waitForSelector("main h1", { timeout: 60_000 });
  assert.equal(await b.page.textContent("main h1"), "Voice activity");
}

/** Waits for a file job to end: its result line ("… s of audio, N segment(s)") or an alert. */
async function fileResult(page) {
  await page.waitForSelector("#vad-summary, [role=alert], #no-speech", { timeout: 90_000 });
  return spansOf(page, ROWS);
}

/** Each speech span lies in its own segment (default settings: padding 0.8 s, redemption 1.4 s). */
function assertAround(segments, spans) {
  assert.equal(segments.length, spans.length, `segments ${JSON.stringify(segments)} for speech ${JSON.stringify(spans)}`);
  spans.forEach(([s0, e0], i) => {
    const [gs, ge] = segments[i];
    assert.ok(gs <= s0 + 0.15 && gs >= s0 - 1.1, `segment ${i} starts at ${gs}, speech at ${s0}`);
    assert.ok(ge >= e0 - 0.15 && ge <= e0 + 1.8, `segment ${i} ends at ${ge}, speech at ${e0}`);
  });
}

for (const webgpu of [true, false]) {
  const label = webgpu ? "WebGPU on" : "WebGPU off";

  test(`file upload gives the reference segments, playable and downloadable as WAV (${label})`, async () => {
    const b = await launchVoice({ webgpu });
    try {
      await openVad(b, REFERENCE_QUERY);
      await b.page.setInputFiles("input[type=file]", VAD_WAV);
      const got = await fileResult(b.page);
      // Same frames as Silero's own runtime found (vad_expected.json), to the millisecond.
      assert.equal(got.length, VAD_EXPECTED.segments.length, JSON.stringify(got));
      got.forEach(([gs, ge], i) => {
        const [es, ee] = VAD_EXPECTED.segments[i];
        assert.ok(Math.abs(gs - es) < 0.0015 && Math.abs(ge - ee) < 0.0015, `segment ${i}: ${gs}-${ge}, expected ${es}-${ee}`);
      });
      assert.ok(await b.page.isVisible("svg.prob-plot polyline"), "probability plot");
      assert.match(await b.page.textContent("#vad-summary"), /5\.9 s of audio, 2 segment/);
      // Playback: the row's audio element holds the segment.
      const duration = await b.page.$eval(`${ROWS} audio`, (a) => new Promise((resolve) => {
        if (a.readyState >= 1) resolve(a.duration);
        a.addEventListener("loadedmetadata", () => resolve(a.duration), { once: true });
        a.load();
      }));
      const [s0, e0] = got[0];
      assert.ok(Math.abs(duration - (e0 - s0)) < 0.05, `audio ${duration} s for segment ${e0 - s0} s`);
      // Download: a 16 kHz mono 16-bit WAV of the segment.
      const [download] = await Promise.all([b.page.waitForEvent("download"), b.page.click(`${ROWS} a[download]`)]);
      const wav = fs.readFileSync(await download.path());
      assert.equal(wav.subarray(0, 4).toString(), "RIFF");
      assert.equal(wav.readUInt32LE(24), 16000);
      const seconds = (wav.length - 44) / 2 / 16000;
      assert.ok(Math.abs(seconds - (e0 - s0)) < 0.05, `downloaded ${seconds} s`);
      assert.match(download.suggestedFilename(), /^speech-001-.*\.wav$/);
      await b.shot(`vad-file-${webgpu ? "webgpu" : "cpu"}`);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test(`microphone: live indicator, plot and segments where the speech is (${label})`, async () => {
    const b = await launchVoice({ webgpu, micWav: SPEECH.wav, init: KEEP_STREAMS });
    try {
      await openVad(b);
      await b.page.click("#mic-start");
      await b.page.waitForSelector(".vad-indicator.silent, .vad-indicator.speaking", { timeout: 30_000 });
      await b.page.waitForSelector(".vad-indicator.speaking", { timeout: 60_000 });
      await b.page.waitForSelector("svg.prob-plot polyline", { timeout: 10_000 });
      // The fake device loops the file; a segment ends 1.4 s after its phrase.
      await b.page.waitForSelector(ROWS, { timeout: 60_000 });
      await b.page.click("#mic-stop");
      await b.page.waitForSelector("#mic-start", { timeout: 30_000 });
      const segs = await spansOf(b.page, ROWS);
      assert.ok(segs.length >= 1, "at least one segment");
      // Capture starts anywhere in the loop: check each whole segment's length against the phrases'.
      const longest = Math.max(...SPEECH.spans.map(([a, z]) => z - a)) + 0.8 + 1.4 + 0.2;
      for (const [a, z] of segs) assert.ok(z - a > 0.4 && z - a < longest, `segment ${a}-${z}`);
      assert.ok(await b.page.$eval(`${ROWS} audio`, (a) => a.src.startsWith("blob:")));
      assert.equal(await b.page.$(".vad-indicator"), null, "indicator gone after Stop");
      assert.equal(await b.page.evaluate(() => window.__micStreams[0].getAudioTracks()[0].readyState), "ended", "Stop releases the microphone");
      await b.shot(`vad-mic-${webgpu ? "webgpu" : "cpu"}`);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}

test("8 kHz, 96 kHz stereo, FLAC (browser-decoded) and drag and drop all find both phrases", async () => {
  const b = await launchVoice({ webgpu: false });
  try {
    const low = path.join(WORK, "speech-8k.wav");
    const high = path.join(WORK, "speech-96k-stereo.wav");
    const flac = path.join(WORK, "speech.flac");
    sh("sox", [SPEECH.wav, "-r", "8000", low]);
    sh("sox", [SPEECH.wav, "-r", "96000", "-c", "2", "-b", "24", high]);
    sh("sox", [SPEECH.wav, "-r", "44100", flac]);
    for (const file of [low, high]) {
      await openVad(b); // a fresh page, so the previous file's result cannot be mistaken for this one's
      await b.page.setInputFiles("input[type=file]", file);
      assertAround(await fileResult(b.page), SPEECH.spans);
    }
    await openVad(b);
    await dropFile(b.page, ".drop-zone", flac, "audio/flac");
    await b.page.waitForFunction(() => document.querySelectorAll(".segments li.segment").length === 2 && !document.querySelector("input[type=file]").disabled, null, { timeout: 90_000 });
    assertAround(await spansOf(b.page, ROWS), SPEECH.spans);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("settings come from the URL; silence, a corrupt WAV and an unknown codec get clear messages", async () => {
  const b = await launchVoice({ webgpu: false });
  try {
    await openVad(b, "pos=0.6&red=500");
    assert.equal(await b.page.inputValue("input[name=pos]"), "0.6");
    assert.equal(await b.page.inputValue("input[name=red]"), "500");
    assert.equal(await b.page.inputValue("input[name=neg]"), "0.35");
    // Changing a setting writes it to the URL.
    await b.page.click("details.settings summary");
    await b.page.fill("input[name=min]", "250");
    await b.page.press("input[name=min]", "Enter");
    await b.page.waitForFunction(() => location.hash.includes("min=250"));

    const quiet = path.join(WORK, "silence.wav");
    sh("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", quiet, "trim", "0", "4"]);
    await b.page.setInputFiles("input[type=file]", quiet);
    await b.page.waitForSelector("text=No speech was found in this audio.", { timeout: 60_000 });
    assert.equal((await spansOf(b.page, ROWS)).length, 0);

    const corrupt = path.join(WORK, "corrupt.wav");
    fs.writeFileSync(corrupt, Buffer.concat([Buffer.from("RIFF\x10\x00\x00\x00WAVEfmt "), Buffer.alloc(8, 0xff)]));
    await b.page.setInputFiles("input[type=file]", corrupt);
    assert.match(await (await b.page.waitForSelector("[role=alert]", { timeout: 60_000 })).textContent(), /This WAV file cannot be read/);

    const junk = path.join(WORK, "voice-memo.mp3");
    fs.writeFileSync(junk, Buffer.alloc(4096, 0x5a));
    await b.page.setInputFiles("input[type=file]", junk);
    await b.page.waitForSelector("text=voice-memo.mp3 is not audio this browser can decode", { timeout: 60_000 });
    // The page still works after all that.
    await b.page.setInputFiles("input[type=file]", SPEECH.wav);
    await b.page.waitForFunction(() => document.querySelectorAll(".segments li.segment").length >= 1, null, { timeout: 90_000 });
    assert.equal(await b.page.$("[role=alert]"), null);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a long recording can be cancelled mid-way, and the page stays usable", async () => {
  const b = await launchVoice({ webgpu: false });
  try {
    await openVad(b);
    const long = path.join(WORK, "long.wav");
    // About 20 minutes: long enough that the scan is still running when Cancel is pressed.
    sh("sox", [SPEECH.wav, long, "repeat", "99"]);
    await b.page.setInputFiles("input[type=file]", long);
    await b.page.click(".job-status button:has-text('Cancel')", { timeout: 60_000 });
    await b.page.waitForSelector(".job-status:has-text('Cancelled')", { timeout: 30_000 });
    assert.equal((await spansOf(b.page, ROWS)).length, 0);
    assert.equal(await b.page.$("#vad-summary"), null, "no result from the cancelled scan");
    await b.page.setInputFiles("input[type=file]", VAD_WAV);
    await b.page.waitForSelector(ROWS, { timeout: 90_000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("microphone refused: a message that says how to allow it, and the page stays usable", async () => {
  const b = await launchVoice({ webgpu: false, micWav: SPEECH.wav, grantMic: false });
  try {
    await openVad(b);
    await b.page.click("#mic-start");
    const alert = await b.page.waitForSelector("[role=alert]", { timeout: 30_000 });
    assert.match(await alert.textContent(), /Microphone access was refused\. Allow the microphone/);
    assert.ok(await b.page.isEnabled("#mic-start"), "Start is offered again");
    await b.shot("vad-mic-refused");
    await b.page.setInputFiles("input[type=file]", VAD_WAV);
    await b.page.waitForSelector(ROWS, { timeout: 90_000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("no microphone, and a microphone that goes away mid-session (segments so far are kept)", async () => {
  const none = await launchVoice({ webgpu: false, init: NO_MIC });
  try {
    await openVad(none);
    await none.page.click("#mic-start");
    assert.match(await (await none.page.waitForSelector("[role=alert]", { timeout: 30_000 })).textContent(), /No microphone was found/);
  } finally {
    await none.close();
  }
  const b = await launchVoice({ webgpu: false, micWav: SPEECH.wav, init: KEEP_STREAMS });
  try {
    await openVad(b);
    await b.page.click("#mic-start");
    await b.page.waitForSelector(ROWS, { timeout: 60_000 });
    const before = (await spansOf(b.page, ROWS)).length;
    // What Chromium fires when the device is unplugged.
    await b.page.evaluate(() => window.__micStreams[0].getAudioTracks()[0].dispatchEvent(new Event("ended")));
    const alert = await b.page.waitForSelector("[role=alert]", { timeout: 10_000 });
    assert.match(await alert.textContent(), /The microphone stopped/);
    await b.page.waitForSelector("#mic-start", { timeout: 30_000 });
    assert.ok((await spansOf(b.page, ROWS)).length >= before, "segments kept");
    assert.equal(await b.page.evaluate(() => window.__micStreams[0].getAudioTracks()[0].readyState), "ended", "mic released");
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
