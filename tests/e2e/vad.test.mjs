// Voice activity (#/vad) in headless Chromium with the real engine worker and the bundled Silero VAD:
// file upload (WAV through hound in the worker, other formats through decodeAudioData), drag and drop,
// 8 kHz / 96 kHz input, a fake microphone (Chromium plays a WAV as the capture device), with WebGPU on and
// off, and every failure the page must explain: mic refused, no mic, mic gone, silence, corrupt WAV,
// unsupported codec.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startServers, appUrl, assertPlainError } from "./lib/app.mjs";
import { recordUploads } from "./lib/browser.mjs";
import {
  VAD_WAV, VAD_EXPECTED, makeSpeech, launchVoice, scratch, sh, dropFile, spansOf, KEEP_STREAMS, NO_MIC,
  RECORD_FILE_READS, rendererMemory,
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
    // The audio never leaves the device: the VAD ships with the app, so every request is to the app itself.
    const uploads = recordUploads(b.context, [], [new URL(servers.app.url).origin]);
    try {
      await openVad(b, REFERENCE_QUERY);
      await b.page.setInputFiles("input[type=file]", VAD_WAV);
      const got = await fileResult(b.page);
      // Same frames as Silero's own runtime found with the checkpoint the app ships (vad_expected.json's
      // segment_frames_package: the package's stock model in onnxruntime), to the millisecond.
      const expected = VAD_EXPECTED.segment_frames_package.map(([a, b]) => [a * 0.032, b * 0.032]);
      assert.equal(got.length, expected.length, JSON.stringify(got));
      got.forEach(([gs, ge], i) => {
        const [es, ee] = expected[i];
        assert.ok(Math.abs(gs - es) < 0.0015 && Math.abs(ge - ee) < 0.0015, `segment ${i}: ${gs}-${ge}, expected ${es}-${ee}`);
      });
      assert.ok(await b.page.isVisible("svg.prob-plot polyline"), "probability plot");
      assert.match(await b.page.textContent("#vad-summary"), /5\.9 s of audio, 2 segment/);
      // The plot says what it shows: a time axis from 0 to the end of the file, and its two thresholds.
      const axis = await b.page.locator(".prob-axis span").allTextContents();
      assert.equal(axis.length, 5);
      assert.equal(axis[0], "0:00.0");
      assert.match(axis[4], /^0:05\.[89]$/, `the axis ends where the audio does: ${axis}`);
      const legend = await b.page.textContent(".prob-legend");
      assert.match(legend, /speech starts above 0\.\d\d/);
      assert.match(legend, /ends below 0\.\d\d/);
      // Nothing decoded is kept for playback: a segment's audio is cut from the file when it is asked for.
      assert.equal(await b.page.$(`${ROWS} audio`), null, "no audio prepared before Play");
      await b.page.click(`${ROWS}:first-child button.segment-play`);
      await b.page.waitForSelector(`${ROWS}:first-child audio`, { timeout: 10_000 });
      const played = await b.page.$eval(`${ROWS}:first-child audio`, (a) => new Promise((resolve) => {
        const done = () => resolve({ duration: a.duration, src: a.src });
        if (a.readyState >= 1) done();
        a.addEventListener("loadedmetadata", done, { once: true });
        a.load();
      }));
      const [s0, e0] = got[0];
      assert.ok(played.src.startsWith("blob:"), played.src);
      assert.ok(Math.abs(played.duration - (e0 - s0)) < 0.05, `audio ${played.duration} s for segment ${e0 - s0} s`);
      // Download before any Play: a 16 kHz mono 16-bit WAV holding exactly that span of the file.
      const [download] = await Promise.all([b.page.waitForEvent("download"), b.page.click(`${ROWS}:nth-child(2) button.segment-download`)]);
      const wav = fs.readFileSync(await download.path());
      assert.equal(wav.subarray(0, 4).toString(), "RIFF");
      assert.equal(wav.readUInt32LE(24), 16000);
      const [s1, e1] = got[1];
      const source = fs.readFileSync(VAD_WAV).subarray(44);
      const from = Math.round(s1 * 16000) * 2;
      const to = Math.min(Math.round(e1 * 16000) * 2, source.length);
      assert.equal(wav.length - 44, to - from, `downloaded ${(wav.length - 44) / 32000} s for ${e1 - s1} s`);
      assert.ok(wav.subarray(44).equals(source.subarray(from, to)), "the download is that span of the file, sample for sample");
      assert.match(download.suggestedFilename(), /^speech-002-.*\.wav$/);
      // Once cut, the row keeps a player and a link for it.
      await b.page.waitForSelector(`${ROWS}:nth-child(2) audio`);
      assert.equal(await b.page.getAttribute(`${ROWS}:nth-child(2) a[download]`, "download"), download.suggestedFilename());
      await b.shot(`vad-file-${webgpu ? "webgpu" : "cpu"}`);
      assert.deepEqual(uploads, [], "no request carries anything out");
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
    sh("sox", ["-v", "0.8", SPEECH.wav, "-r", "96000", "-c", "2", "-b", "24", high]);
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
    assert.match(assertPlainError(await (await b.page.waitForSelector("[role=alert]", { timeout: 60_000 })).textContent()), /This WAV file cannot be read/);

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
    // A file analysed first: its results must survive the failed start below.
    await b.page.setInputFiles("input[type=file]", VAD_WAV);
    await b.page.waitForSelector(ROWS, { timeout: 90_000 });
    const rows = (await spansOf(b.page, ROWS)).length;
    const summary = await b.page.textContent("#vad-summary");
    await b.page.click("#mic-start");
    const alert = await b.page.waitForSelector("[role=alert]", { timeout: 30_000 });
    assert.match(assertPlainError(await alert.textContent()), /Microphone access was refused\. Allow the microphone/);
    assert.ok(await b.page.isEnabled("#mic-start"), "Start is offered again");
    assert.equal((await spansOf(b.page, ROWS)).length, rows, "the file's segments are still there");
    assert.equal(await b.page.textContent("#vad-summary"), summary);
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
    assert.match(assertPlainError(await (await none.page.waitForSelector("[role=alert]", { timeout: 30_000 })).textContent()), /No microphone was found/);
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
    assert.match(assertPlainError(await alert.textContent()), /The microphone stopped/);
    await b.page.waitForSelector("#mic-start", { timeout: 30_000 });
    assert.ok((await spansOf(b.page, ROWS)).length >= before, "segments kept");
    assert.equal(await b.page.evaluate(() => window.__micStreams[0].getAudioTracks()[0].readyState), "ended", "mic released");
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

/** The segments of `copies` back-to-back copies of SPEECH (`seconds` long each). */
function repeatedSpans(copies, seconds) {
  const out = [];
  for (let k = 0; k < copies; k++) for (const [a, z] of SPEECH.spans) out.push([a + k * seconds, z + k * seconds]);
  return out;
}

/** Keeps the app's wasm exports (for its memory) and every progress label shown, before the app starts. */
const MEASURE = () => {
  addEventListener("TrunkApplicationStarted", (e) => { window.__appWasm = e.detail.wasm; });
  window.__labels = [];
  new MutationObserver(() => {
    const l = document.querySelector(".job-label")?.textContent;
    if (l && window.__labels.at(-1) !== l) window.__labels.push(l);
  }).observe(document, { subtree: true, childList: true, characterData: true });
};

/**
 * Runs a VAD file job in a fresh browser and measures memory: the high-water marks of the page's and the
 * worker's wasm memories (wasm memory never shrinks, so its size is the most the Rust side ever held), the
 * renderer process's peak and (after a forced garbage collection) retained resident memory, and the page's
 * JS heap. Page and worker share that renderer process.
 */
async function measuredRun(file) {
  const b = await launchVoice({
    webgpu: false,
    init: `(${MEASURE})(); (${RECORD_FILE_READS})();`,
    extraArgs: ["--enable-precise-memory-info", "--js-flags=--expose-gc"],
  });
  try {
    await openVad(b);
    const started = Date.now();
    await b.page.setInputFiles("input[type=file]", file);
    await b.page.waitForSelector("#vad-summary, [role=alert]", { timeout: 180_000 });
    const seconds = (Date.now() - started) / 1000;
    assert.equal(await b.page.$("[role=alert]"), null, await b.page.textContent("main"));
    const worker = b.page.workers()[0];
    const workerWasm = await worker.evaluate(async () => (await wasm_bindgen()).memory.buffer.byteLength);
    const pageWasm = await b.page.evaluate(() => window.__appWasm.memory.buffer.byteLength);
    const peak = Math.max(...rendererMemory(b.userDataDir).map((r) => r.peak));
    await b.page.evaluate(() => gc());
    await worker.evaluate(() => gc());
    const pageHeap = await b.page.evaluate(() => performance.memory.usedJSHeapSize);
    const retained = Math.max(...rendererMemory(b.userDataDir).map((r) => r.rss));
    const reads = await b.page.evaluate(() => window.__reads);
    const labels = await b.page.evaluate(() => window.__labels);
    const segments = await spansOf(b.page, ROWS);
    const summary = await b.page.textContent("#vad-summary");
    const plotPoints = await b.page.$eval("svg.prob-plot polyline", (p) => p.getAttribute("points").trim().split(" ").length);
    assert.deepEqual(b.errors, []);
    return { seconds, workerWasm, pageWasm, peak, retained, pageHeap, reads, labels, segments, summary, plotPoints };
  } finally {
    await b.close();
  }
}

test("a 30-minute WAV streams through in pieces: the right segments, and memory does not grow with its length", async () => {
  const unit = Number(sh("soxi", ["-D", SPEECH.wav]));
  const runs = {};
  const mb = (n) => (n / 1048576).toFixed(1);
  for (const minutes of [2, 30]) {
    const copies = Math.ceil((minutes * 60) / unit);
    const file = path.join(WORK, `speech-${minutes}min.wav`);
    sh("sox", [SPEECH.wav, file, "repeat", String(copies - 1)]);
    const size = fs.statSync(file).size;
    const run = await measuredRun(file);
    fs.rmSync(file);
    assertAround(run.segments, repeatedSpans(copies, unit));
    const [, heard, count] = /^([\d.]+) s of audio, (\d+) segment/.exec(run.summary);
    assert.ok(Math.abs(Number(heard) - copies * unit) < 0.06, `${heard} s heard of ${copies * unit}`);
    assert.equal(Number(count), copies * 2);
    // Read in slices of at most 2 MiB, never whole, and each byte about once.
    assert.deepEqual(run.reads.whole, [], "the file is never read whole");
    const sliced = run.reads.slices.filter(([, , total]) => total === size);
    const largest = Math.max(...sliced.map(([a, z]) => z - a));
    const total = sliced.reduce((n, [a, z]) => n + (z - a), 0);
    assert.ok(largest <= 2 * 1024 * 1024, `largest slice ${largest} bytes`);
    assert.ok(total >= size - 64 && total < size + 128 * 1024, `${total} bytes read of ${size}`);
    // The plot stays a few thousand points long however long the recording.
    assert.ok(run.plotPoints <= 8192, `${run.plotPoints} plot points`);
    runs[minutes] = run;
    console.log(`# ${minutes} min (${mb(size)} MB WAV, ${copies * 2} segments) in ${run.seconds.toFixed(1)} s: wasm high-water page ${mb(run.pageWasm)} MB, worker ${mb(run.workerWasm)} MB; renderer retained ${mb(run.retained)} MB after GC, peak ${mb(run.peak)} MB; page JS heap after GC ${mb(run.pageHeap)} MB; ${sliced.length} slices`);
  }
  const [short, long] = [runs[2], runs[30]];
  // 15 times the audio, 51 MB more file. Reading it whole would have put it (and its decoded samples)
  // into wasm memory on both sides; streamed, only the results (342 segment times) are more.
  assert.ok(long.workerWasm - short.workerWasm <= 4 * 1048576, `worker wasm ${mb(short.workerWasm)} -> ${mb(long.workerWasm)} MB`);
  assert.ok(long.pageWasm - short.pageWasm <= 8 * 1048576, `page wasm ${mb(short.pageWasm)} -> ${mb(long.pageWasm)} MB`);
  assert.ok(long.retained - short.retained < 32 * 1048576, `renderer retained ${mb(short.retained)} -> ${mb(long.retained)} MB`);
  assert.ok(long.pageHeap - short.pageHeap < 8 * 1048576, `page JS heap ${mb(short.pageHeap)} -> ${mb(long.pageHeap)} MB`);
  // The peak also holds message buffers the garbage collector has not reached yet (V8 collects them
  // every few dozen MB): bounded, but more pieces reach that bound. Far below a whole-file read's copies.
  assert.ok(long.peak - short.peak < 160 * 1048576, `renderer peak ${mb(short.peak)} -> ${mb(long.peak)} MB`);
  assert.ok(long.seconds < 90, `30 minutes of audio took ${long.seconds} s`);
  // While it ran, progress was in audio time with the time left.
  assert.ok(long.labels.some((l) => /^Processing audio: \d+:\d\d of 30:\d\d · about \d+ (s|min) left$/.test(l)), long.labels.join(" | "));
});

test("a WAV cut short mid-recording: what is there is processed, and the page says the file ended early", async () => {
  const b = await launchVoice({ webgpu: false });
  try {
    await openVad(b);
    // Cut in the silence after phrase A: the header still announces the whole recording.
    const whole = fs.readFileSync(SPEECH.wav);
    const cut = path.join(WORK, "cut.wav");
    const at = 44 + Math.round((SPEECH.spans[0][1] + 1.6) * 16000) * 2 + 1;
    fs.writeFileSync(cut, whole.subarray(0, at));
    await b.page.setInputFiles("input[type=file]", cut);
    await fileResult(b.page);
    assert.match(await b.page.textContent("#file-notice"), /The file ends early: its header announces 0:\d\d of audio but only 0:\d\d is there/);
    assertAround(await spansOf(b.page, ROWS), [SPEECH.spans[0]]);
    assert.equal(await b.page.$("[role=alert]"), null);
    // Its segment still plays (cut from the file that is there).
    await b.page.click(`${ROWS} button.segment-play`);
    await b.page.waitForSelector(`${ROWS} audio`, { timeout: 10_000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("compressed audio over an hour is refused before decoding, with the way to process it", async () => {
  const b = await launchVoice({ webgpu: false });
  try {
    await openVad(b);
    const long = path.join(WORK, "long-silence.flac");
    sh("sox", ["-n", "-r", "16000", "-c", "1", long, "trim", "0", "3700"]);
    await b.page.setInputFiles("input[type=file]", long);
    const alert = await b.page.waitForSelector("[role=alert]", { timeout: 30_000 });
    assert.match(assertPlainError(await alert.textContent()), /long-silence\.flac is 1:01:40 long\. .*up to an hour\. Convert it to WAV .*WAV files of any length are read as a stream/);
    // Nothing is lost: the page takes the next file.
    await b.page.setInputFiles("input[type=file]", VAD_WAV);
    await b.page.waitForSelector(ROWS, { timeout: 90_000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
