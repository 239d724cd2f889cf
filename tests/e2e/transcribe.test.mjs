// Transcribe (#/transcribe) in headless Chromium with the real engine worker: Whisper comes through the
// model store from a local mirror (the catalog's test checkpoint `whisper-tiny-random`, i.e. the committed
// tiny-random fixture with openai/whisper-*'s tensor names), is verified against the catalog's SHA-256 and
// cached, then runs on the CPU or (WebGPU on, GPU chosen on the Device page) on WebGPU. Random weights write
// noise, so the tests check structure: timed lines inside the audio, click-to-play, the three export
// formats, language/task in the URL, and the failures the page must explain.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { startAppServer, startMirror } from "./lib/servers.mjs";
import { DIST, appUrl, cachedKeys, assertPlainError } from "./lib/app.mjs";
import { recordUploads } from "./lib/browser.mjs";
import {
  VAD_WAV, WHISPER_TINY, makeSpeech, launchVoice, scratch, sh, spansOf, KEEP_STREAMS, RECORD_FILE_READS,
} from "./lib/voice.mjs";

const REPO = "offgrid-test/whisper-tiny-random";
const WORK = scratch();
const SPEECH = makeSpeech(WORK);
const LINES = ".transcript-lines li.transcript-line";
const VAD_SECONDS = 93754 / 16000;
const GPU_TIMEOUT_MS = 600_000;
/** The CPU run's lines (time and text), which the GPU run must reproduce. */
let cpuTranscript = null;

async function transcriptOf(page) {
  return page.$$eval(".transcript-lines li button", (bs) => bs.map((b) => b.innerText.replace(/\s+/g, " ").trim()));
}

let app;
let mirror;
before(async () => {
  app = await startAppServer(DIST);
  mirror = await startMirror({ [REPO]: WHISPER_TINY });
});
after(async () => {
  await app?.close();
  await mirror?.close();
  fs.rmSync(WORK, { recursive: true, force: true });
});

/** The page with the test checkpoint from the mirror, plus `extra` query parameters. Quick decoding: random
 * weights are unsure of every window, which careful decoding would decode 25 more times. */
async function openTranscribe(b, extra = "") {
  const query = `models=${encodeURIComponent(mirror.base("good"))}&model=whisper-tiny-random&decode=quick${extra ? `&${extra}` : ""}`;
  if (b.page.url() !== "about:blank") await b.page.goto("about:blank");
  await b.page.goto(appUrl(app, "/transcribe", query));
  await b.page.waitForSelector("main h1", { timeout: 60_000 });
  assert.equal(await b.page.textContent("main h1"), "Transcribe");
}

/** Chromium; `gpuChosen` saves the Device page's choice "GPU" for transcription beforehand. */
function launch(webgpu, { gpuChosen = false, ...options } = {}) {
  const choose = () => localStorage.setItem("offgrid.overrides", JSON.stringify({ tasks: { transcribe: { backend: "gpu" } } }));
  return launchVoice({ webgpu, ...options, init: gpuChosen ? choose : undefined });
}

/** Waits for the probe's plan and returns the backend the page will use. */
async function plannedBackend(page) {
  await page.waitForSelector("#model-choice[data-plan=ready]", { timeout: 90_000 });
  return page.getAttribute("#model-choice", "data-backend");
}

/** Lines are in order, each inside [0, total] with start <= end. */
function assertTimed(lines, total) {
  assert.ok(lines.length >= 1, "at least one line");
  let last = -1;
  for (const [s, e] of lines) {
    assert.ok(s >= 0 && s <= e && e <= total + 0.01, `line ${s}-${e} within 0-${total}`);
    assert.ok(s >= last - 0.001, `lines in order (${s} after ${last})`);
    last = s;
  }
}

async function download(page, selector) {
  const [d] = await Promise.all([page.waitForEvent("download"), page.click(selector)]);
  return { name: d.suggestedFilename(), text: fs.readFileSync(await d.path(), "utf8") };
}

for (const webgpu of [true, false]) {
  const label = webgpu ? "WebGPU on" : "WebGPU off";

  test(`file upload: model downloaded and verified, timed lines, click to play, .txt/.srt/.vtt (${label})`, async () => {
    const b = await launch(webgpu);
    // The audio never leaves the device; requests go only to the app and the model source.
    const uploads = recordUploads(b.context, [], [new URL(app.url).origin, new URL(mirror.base("good")).origin]);
    try {
      await openTranscribe(b);
      // The plan decides: headless Chromium's WebGPU adapter is SwiftShader (software), so the CPU.
      assert.equal(await plannedBackend(b.page), "cpu");
      await b.page.setInputFiles("input[type=file]", VAD_WAV);
      await b.page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 180_000 });
      assert.equal(await b.page.$("[role=alert]"), null, await b.page.textContent("main"));
      const lines = await spansOf(b.page, LINES);
      assertTimed(lines, VAD_SECONDS);
      assert.match(await b.page.textContent("#language"), /^Language: [a-z]{2,3}$/);
      assert.match(await b.page.textContent(`${LINES} .line-time`), /^\d+:\d\d\.\d – \d+:\d\d\.\d$/);
      // The model files were verified and cached by the worker.
      const keys = await cachedKeys(b.page);
      for (const f of ["model.safetensors", "config.json", "tokenizer.json", "generation_config.json"]) {
        assert.ok(keys.some((k) => k.includes(REPO) && k.endsWith(f)), `${f} cached: ${keys.join(", ")}`);
      }

      // Click the last line: the player plays the uploaded file from that line's start.
      const [start] = lines[lines.length - 1];
      await b.page.click(`${LINES}:last-child button`);
      await b.page.waitForFunction((t) => {
        const p = document.querySelector("#player");
        return p.src.startsWith("blob:") && p.currentTime >= t - 0.05;
      }, start, { timeout: 10_000 });
      assert.equal(await b.page.getAttribute(`${LINES}:last-child button`, "aria-current"), "true");

      const txt = await download(b.page, "#export-txt");
      assert.equal(txt.name, "vad_speech_16k.txt");
      assert.equal(txt.text.trimEnd().split("\n").length, lines.length);
      assert.match(txt.text, /^\[\d+:\d\d\.\d – \d+:\d\d\.\d\] /);
      const srt = await download(b.page, "#export-srt");
      assert.equal(srt.name, "vad_speech_16k.srt");
      const cues = srt.text.trimEnd().split("\n\n");
      assert.equal(cues.length, lines.length);
      cues.forEach((cue, i) => {
        const [n, times] = cue.split("\n");
        assert.equal(n, String(i + 1));
        const m = /^(\d\d):(\d\d):(\d\d),(\d{3}) --> (\d\d):(\d\d):(\d\d),(\d{3})$/.exec(times);
        assert.ok(m, times);
        const secs = (h, mm, s, ms) => Number(h) * 3600 + Number(mm) * 60 + Number(s) + Number(ms) / 1000;
        assert.ok(Math.abs(secs(m[1], m[2], m[3], m[4]) - lines[i][0]) < 0.002, `cue ${i + 1} start`);
        assert.ok(Math.abs(secs(m[5], m[6], m[7], m[8]) - lines[i][1]) < 0.002, `cue ${i + 1} end`);
      });
      const vtt = await download(b.page, "#export-vtt");
      assert.equal(vtt.name, "vad_speech_16k.vtt");
      assert.match(vtt.text, /^WEBVTT\n\n\d\d:\d\d:\d\d\.\d{3} --> \d\d:\d\d:\d\d\.\d{3}\n/);
      assert.equal((vtt.text.match(/ --> /g) || []).length, lines.length);
      if (!webgpu) cpuTranscript = await transcriptOf(b.page);
      await b.shot(`transcribe-file-${webgpu ? "webgpu" : "cpu"}`);
      assert.deepEqual(uploads, [], "no request carries anything out");
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });

  test(`microphone: each utterance is transcribed while the mic is still on (${label})`, async () => {
    const b = await launch(webgpu, { micWav: SPEECH.wav });
    try {
      await b.page.addInitScript(KEEP_STREAMS);
      await openTranscribe(b);
      assert.equal(await plannedBackend(b.page), "cpu");
      await b.page.click("#mic-start");
      await b.page.waitForSelector(".vad-indicator", { timeout: 30_000 });
      // Text appears while still listening: a line before Stop is pressed.
      await b.page.waitForSelector(LINES, { timeout: 120_000 });
      assert.ok(await b.page.isVisible("#mic-stop"), "still listening when the first line appears");
      await b.page.click("#mic-stop");
      await b.page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 60_000 });
      assert.equal(await b.page.$("[role=alert]"), null);
      const lines = await spansOf(b.page, LINES);
      const heard = Number((await b.page.textContent("#transcribe-done")).match(/from ([\d.]+) s/)[1]);
      assertTimed(lines, heard + 0.05);
      // The line plays from the utterance's own recording.
      await b.page.click(`${LINES}:first-child button`);
      await b.page.waitForFunction(() => document.querySelector("#player").src.startsWith("blob:"), null, { timeout: 10_000 });
      assert.equal(await b.page.evaluate(() => window.__micStreams[0].getAudioTracks()[0].readyState), "ended", "Stop releases the microphone");
      await b.shot(`transcribe-mic-${webgpu ? "webgpu" : "cpu"}`);
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}

test("a 48 kHz stereo WAV streams to Whisper piece by piece: progress in audio time, lines to the end, playback from the file", async () => {
  // Four copies of the two phrases at 48 kHz stereo: 9 MB, five 2 MiB pieces.
  const unit = Number(sh("soxi", ["-D", SPEECH.wav]));
  const wav = path.join(WORK, "speech-48k-stereo.wav");
  sh("sox", ["-v", "0.8", SPEECH.wav, "-r", "48000", "-c", "2", "-b", "16", wav, "repeat", "3"]);
  const size = fs.statSync(wav).size;
  const total = 4 * unit;
  // Every progress label the page shows, as it shows it.
  const LABELS = () => {
    window.__labels = [];
    new MutationObserver(() => {
      const l = document.querySelector(".job-label")?.textContent;
      if (l && window.__labels.at(-1) !== l) window.__labels.push(l);
    }).observe(document, { subtree: true, childList: true, characterData: true });
  };
  const b = await launchVoice({ webgpu: false, init: `(${RECORD_FILE_READS})(); (${LABELS})();` });
  try {
    await openTranscribe(b);
    await b.page.setInputFiles("input[type=file]", wav);
    await b.page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 180_000 });
    assert.equal(await b.page.$("[role=alert]"), null, await b.page.textContent("main"));
    const heard = Number((await b.page.textContent("#transcribe-done")).match(/from ([\d.]+) s/)[1]);
    assert.ok(Math.abs(heard - total) < 0.06, `${heard} s heard of ${total}`);
    const lines = await spansOf(b.page, LINES);
    assertTimed(lines, total);
    // Utterances from the last piece of the file were transcribed too.
    assert.ok(lines.at(-1)[1] > 3 * unit + SPEECH.spans[0][0], `last line ends at ${lines.at(-1)[1]} s of ${total}`);
    // The file was read in slices of at most 2 MiB, each byte about once, never whole.
    const reads = await b.page.evaluate(() => window.__reads);
    assert.deepEqual(reads.whole, []);
    const slices = reads.slices.filter(([, , t]) => t === size);
    assert.ok(slices.length >= 5, `${slices.length} slices`);
    assert.ok(Math.max(...slices.map(([a, z]) => z - a)) <= 2 * 1024 * 1024);
    assert.ok(slices.reduce((n, [a, z]) => n + (z - a), 0) < size + 128 * 1024);
    // Progress was counted in audio time while it ran.
    const labels = await b.page.evaluate(() => window.__labels);
    assert.ok(labels.some((l) => /^Processing audio: 0:\d\d of 0:\d\d/.test(l)), labels.join(" | "));
    // A line from the end plays from the file itself, seeked to its start.
    const [start] = lines.at(-1);
    await b.page.click(`${LINES}:last-child button`);
    await b.page.waitForFunction((t) => {
      const p = document.querySelector("#player");
      return p.src.startsWith("blob:") && p.currentTime >= t - 0.05 && !p.paused;
    }, start, { timeout: 10_000 });
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a WAV the browser cannot play itself (64-bit float) still plays its lines: the span is cut from the file", async () => {
  const wav = path.join(WORK, "speech-f64.wav");
  sh("sox", [VAD_WAV, "-e", "floating-point", "-b", "64", wav]);
  const b = await launch(false);
  try {
    await openTranscribe(b);
    await b.page.setInputFiles("input[type=file]", wav);
    await b.page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 180_000 });
    assert.equal(await b.page.$("[role=alert]"), null, await b.page.textContent("main"));
    const lines = await spansOf(b.page, LINES);
    assertTimed(lines, VAD_SECONDS);
    // The longest line (random weights write some of zero length).
    const longest = lines.reduce((best, l, i) => (l[1] - l[0] > lines[best][1] - lines[best][0] ? i : best), 0);
    const [start, end] = lines[longest];
    await b.page.click(`${LINES}:nth-child(${longest + 1}) button`);
    // Chromium refuses the file ("no supported streams"), so the line's span plays as a WAV of its own
    // (with the 50 ms the file would have played past the end, where there is audio there).
    const played = await b.page.waitForFunction(() => {
      const p = document.querySelector("#player");
      // Playing for real: metadata read (the refused file never gets there) and time moving.
      return p.readyState >= 2 && Number.isFinite(p.duration) && !p.paused && p.currentTime > 0
        && p.src.startsWith("blob:") && { duration: p.duration, src: p.src };
    }, null, { timeout: 15_000 });
    const { duration } = await played.jsonValue();
    const want = Math.min(end + 0.05, VAD_SECONDS) - start;
    assert.ok(Math.abs(duration - want) < 0.01, `played ${duration} s for a ${end - start} s line: ${JSON.stringify(lines)}`);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("GPU chosen on the Device page: Whisper runs on WebGPU (SwiftShader) and writes what the CPU wrote", async () => {
  const b = await launch(true, { gpuChosen: true });
  try {
    await openTranscribe(b);
    assert.equal(await plannedBackend(b.page), "gpu");
    assert.match(await b.page.textContent("#model-choice"), /on the GPU\./);
    await b.page.setInputFiles("input[type=file]", VAD_WAV);
    // Software WebGPU is slow (shaders compiled on the CPU): minutes, not seconds.
    await b.page.waitForSelector("#transcribe-done, [role=alert]", { timeout: GPU_TIMEOUT_MS });
    assert.equal(await b.page.$("[role=alert]"), null, await b.page.textContent("main"));
    assertTimed(await spansOf(b.page, LINES), VAD_SECONDS);
    // Same greedy tokens as the CPU path (the engine's GPU kernels track the CPU within float error).
    assert.ok(cpuTranscript, "the CPU file test ran first");
    assert.deepEqual(await transcriptOf(b.page), cpuTranscript);
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("language and task live in the URL and reach the model; unknown language and silence are explained", async () => {
  const b = await launch(false);
  try {
    await openTranscribe(b, "lang=fr&task=translate");
    assert.equal(await b.page.inputValue("#lang"), "fr");
    assert.equal(await b.page.inputValue("#task"), "translate");
    await b.page.selectOption("#lang", "de");
    await b.page.waitForFunction(() => location.hash.includes("lang=de") && location.hash.includes("task=translate"));
    await b.page.selectOption("#task", "");
    await b.page.waitForFunction(() => !location.hash.includes("task="));
    // The chosen language is used rather than detected.
    await b.page.setInputFiles("input[type=file]", VAD_WAV);
    await b.page.waitForSelector("#transcribe-done, [role=alert]", { timeout: 180_000 });
    assert.equal(await b.page.textContent("#language"), "Language: de");
    // A shared link keeps the choice after a reload.
    const url = b.page.url();
    await b.page.goto("about:blank");
    await b.page.goto(url);
    await b.page.waitForSelector("#lang");
    assert.equal(await b.page.inputValue("#lang"), "de");

    await openTranscribe(b, "lang=xx");
    await b.page.setInputFiles("input[type=file]", VAD_WAV);
    assert.match(assertPlainError(await (await b.page.waitForSelector("[role=alert]", { timeout: 120_000 })).textContent(), { mirrorSet: true }), /does not know the language "xx"/);

    await openTranscribe(b);
    const quiet = path.join(WORK, "silence.wav");
    sh("sox", ["-n", "-r", "44100", "-c", "2", "-b", "16", quiet, "trim", "0", "3"]);
    await b.page.setInputFiles("input[type=file]", quiet);
    await b.page.waitForSelector("#no-speech", { timeout: 120_000 });
    assert.equal((await spansOf(b.page, LINES)).length, 0);
    assert.equal(await b.page.$("#export-srt"), null, "nothing to export");
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});

test("a model the page cannot run is refused up front, the message follows the URL, and a refused mic is explained", async () => {
  const b = await launchVoice({ webgpu: false, micWav: SPEECH.wav, grantMic: false });
  try {
    // A search model on the Transcribe page: said plainly, and nothing can be started with it.
    await b.page.goto(appUrl(app, "/transcribe", "model=minilm-l6-v2"));
    await b.page.waitForSelector("#model-choice[data-problem]");
    assert.match(await b.page.textContent("#model-choice"), /is a model for search, not for transcribe/);
    assert.ok(await b.page.isDisabled("input[type=file]"), "no file can be given to it");
    assert.ok(await b.page.isDisabled("#mic-start"), "the microphone cannot start with it");
    // Another model in the same tab, without a reload: the message follows and the old one is gone.
    await b.page.evaluate(() => { location.hash = "#/transcribe?model=whisper-huge"; });
    await b.page.waitForFunction(() => /There is no model called "whisper-huge"/.test(document.querySelector("#model-choice")?.textContent ?? ""));
    assert.doesNotMatch(await b.page.textContent("main"), /model for search/);
    // One click back to the plan's model.
    await b.page.click("#use-recommended");
    await b.page.waitForSelector("#model-choice:not([data-problem])");
    assert.ok(await b.page.isEnabled("#mic-start"));
    await b.page.click("#mic-start");
    await b.page.waitForFunction(() => /Microphone access was refused/.test(document.querySelector("[role=alert]")?.textContent ?? ""), null, { timeout: 30_000 });
    assert.ok(await b.page.isEnabled("#mic-start"));
    assert.deepEqual(b.errors, []);
  } finally {
    await b.close();
  }
});
