// Helpers for the voice pages' browser tests: speech made here with espeak-ng + sox, Chromium with a fake
// microphone (it plays a WAV file as the capture device), and hooks into getUserMedia for the mic failures.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";
import { CHROMIUM, ARTIFACTS } from "./browser.mjs";
import { ROOT } from "./app.mjs";

export const FIXTURES = path.join(ROOT, "engine/tests/fixtures");
/** espeak-ng speech at 16 kHz (engine/tests/fixtures) and the segments the reference VAD found in it. */
export const VAD_WAV = path.join(FIXTURES, "vad_speech_16k.wav");
export const VAD_EXPECTED = JSON.parse(fs.readFileSync(path.join(FIXTURES, "vad_expected.json"), "utf8"));
export const WHISPER_TINY = path.join(FIXTURES, "whisper_tiny");

export function sh(cmd, args) {
  return execFileSync(cmd, args, { encoding: "utf8" }).trim();
}

/** A scratch folder removed by the caller. */
export function scratch() {
  return fs.mkdtempSync(path.join(os.tmpdir(), "offgrid-voice-"));
}

/**
 * Silence, phrase A, a 3 s gap, phrase B, silence (16 kHz mono) in `dir`; returns the file and the speech
 * spans in seconds. espeak-ng's own leading/trailing silence is trimmed so the spans are the speech itself.
 */
export function makeSpeech(dir, { lead = 1.5, gap = 3.0 } = {}) {
  const part = (name, text) => {
    const raw = path.join(dir, `${name}-raw.wav`);
    const out = path.join(dir, `${name}.wav`);
    sh("espeak-ng", ["-w", raw, text]);
    sh("sox", [raw, "-r", "16000", "-c", "1", "-b", "16", out, "silence", "1", "0.02", "1%", "reverse", "silence", "1", "0.02", "1%", "reverse"]);
    return { file: out, dur: Number(sh("soxi", ["-D", out])) };
  };
  const silence = (name, seconds) => {
    const out = path.join(dir, `${name}.wav`);
    sh("sox", ["-n", "-r", "16000", "-c", "1", "-b", "16", out, "trim", "0", String(seconds)]);
    return out;
  };
  const a = part("a", "The quick brown fox jumps over the lazy dog.");
  const b = part("b", "Offline voice detection runs in the browser.");
  const wav = path.join(dir, "speech.wav");
  sh("sox", [silence("s1", lead), a.file, silence("s2", gap), b.file, silence("s3", lead), wav]);
  return {
    wav,
    spans: [
      [lead, lead + a.dur],
      [lead + a.dur + gap, lead + a.dur + gap + b.dur],
    ],
  };
}

/**
 * Chromium with WebGPU on or off and a fake microphone playing `micWav`. `grantMic: false` leaves out the
 * flag that accepts the permission prompt, so headless Chromium refuses the microphone.
 * `init` is a script run before the app (for getUserMedia hooks).
 */
export async function launchVoice({ webgpu, micWav, grantMic = true, init, extraArgs = [] }) {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), "offgrid-chromium-"));
  const args = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-quic", "--no-first-run", "--disable-dev-shm-usage", "--autoplay-policy=no-user-gesture-required",
    "--use-fake-device-for-media-stream",
    ...(grantMic ? ["--use-fake-ui-for-media-stream"] : []),
    ...(micWav ? [`--use-file-for-fake-audio-capture=${micWav}`] : []),
    ...(webgpu ? ["--enable-unsafe-webgpu"] : ["--disable-features=WebGPU,WebGPUService", "--disable-webgpu"]),
    ...extraArgs,
  ];
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args, viewport: { width: 1280, height: 900 }, acceptDownloads: true,
  });
  const errors = [];
  context.on("weberror", (e) => errors.push(String(e.error())));
  if (init) await context.addInitScript(init);
  const page = context.pages()[0] || (await context.newPage());
  page.on("console", (m) => {
    if (m.type() === "error" && process.env.E2E_VERBOSE) console.log("[page]", m.text());
  });
  return {
    context, page, errors, userDataDir,
    async shot(name) { await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true }); },
    async close() { await context.close(); fs.rmSync(userDataDir, { recursive: true, force: true }); },
  };
}

/** Keeps every stream getUserMedia returns in `window.__micStreams`, so a test can end its track. */
export const KEEP_STREAMS = () => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  window.__micStreams = [];
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    window.__micStreams.push(stream);
    return stream;
  };
};

/** A machine with no microphone: getUserMedia fails as Chromium does then. */
export const NO_MIC = () => {
  navigator.mediaDevices.getUserMedia = async () => {
    throw new DOMException("Requested device not found", "NotFoundError");
  };
};

/** Drops a file (bytes from disk) on the element matching `selector`, as a person dragging it in would. */
export async function dropFile(page, selector, file, type) {
  const b64 = fs.readFileSync(file).toString("base64");
  await page.evaluate(({ selector, b64, name, type }) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const dt = new DataTransfer();
    dt.items.add(new File([bytes], name, { type }));
    const target = document.querySelector(selector);
    target.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, { selector, b64, name: path.basename(file), type });
}

/** [start, end] of each row matching `selector` (rows carry data-start / data-end in seconds). */
export async function spansOf(page, selector) {
  return page.$$eval(selector, (rows) => rows.map((r) => [Number(r.dataset.start), Number(r.dataset.end)]));
}

/**
 * Records every slice the page reads of a file (`Blob.prototype.slice`) and every whole-file read
 * (`arrayBuffer()` on a File), in `window.__reads`, to show that a file is streamed rather than read whole.
 */
export const RECORD_FILE_READS = () => {
  window.__reads = { slices: [], whole: [] };
  const slice = Blob.prototype.slice;
  Blob.prototype.slice = function (start, end, type) {
    if (this instanceof File) window.__reads.slices.push([start ?? 0, end ?? this.size, this.size]);
    return slice.call(this, start, end, type);
  };
  const arrayBuffer = Blob.prototype.arrayBuffer;
  Blob.prototype.arrayBuffer = function () {
    if (this instanceof File) window.__reads.whole.push(this.size);
    return arrayBuffer.call(this);
  };
};

/**
 * Memory of the browser launched with `userDataDir`: for each of its renderer processes (the page and its
 * dedicated workers live in one), the resident set now and its peak (VmHWM), in bytes, from /proc.
 */
export function rendererMemory(userDataDir) {
  const procs = [];
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").join(" ");
      const stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      procs.push({ pid: Number(d), ppid, cmd });
    } catch {
      // The process ended while being read.
    }
  }
  const root = procs.find((p) => p.cmd.includes(`--user-data-dir=${userDataDir}`) && !p.cmd.includes("--type="));
  if (!root) return [];
  const family = new Set([root.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of procs) {
      if (!family.has(p.pid) && family.has(p.ppid)) {
        family.add(p.pid);
        grew = true;
      }
    }
  }
  return procs
    .filter((p) => family.has(p.pid) && p.cmd.includes("--type=renderer"))
    .map((p) => {
      let status = "";
      try {
        status = fs.readFileSync(`/proc/${p.pid}/status`, "utf8");
      } catch {
        // Gone.
      }
      const kb = (key) => Number((status.match(new RegExp(`${key}:\\s+(\\d+)`)) || [])[1] || 0) * 1024;
      return { pid: p.pid, rss: kb("VmRSS"), peak: kb("VmHWM") };
    });
}
