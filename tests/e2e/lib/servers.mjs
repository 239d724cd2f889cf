// Local servers for the browser tests: the built app under a path prefix (to prove the site works
// under any prefix), and a model mirror in the Hugging Face layout with failure modes.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".safetensors": "application/octet-stream",
};

function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

function closeServer(server) {
  server.closeAllConnections?.();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Serves `distDir` at http://127.0.0.1:PORT/offgrid/ . `swSuffix` changes sw.js (a new version). */
export async function startAppServer(distDir, prefix = "/offgrid/") {
  const state = { swSuffix: "", requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    const url = new URL(req.url, "http://x");
    if (!url.pathname.startsWith(prefix)) {
      res.writeHead(404).end("not here");
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(prefix.length)) || "index.html";
    const file = path.join(distDir, rel);
    if (!file.startsWith(distDir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end("missing");
      return;
    }
    let body = fs.readFileSync(file);
    if (rel === "sw.js" && state.swSuffix) body = Buffer.concat([body, Buffer.from(`\n// ${state.swSuffix}\n`)]);
    res.writeHead(200, {
      "content-type": MIME[path.extname(file)] || "application/octet-stream",
      "content-length": body.length,
      "cache-control": rel === "sw.js" || rel === "index.html" ? "no-cache" : "public, max-age=60",
    });
    res.end(body);
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}${prefix}`,
    state,
    close: () => closeServer(server),
  };
}

/**
 * A model mirror: GET /{mode}/{repo}/resolve/{revision}/{path} serves files from `files`
 * (a map repo -> folder). Modes:
 *   good     as the Hub does (Range → 206)
 *   corrupt  model.safetensors with one byte flipped (same size)
 *   flaky    the first request for each file breaks off halfway; later ones honour Range
 *   slow     about 4 MB/s, so a test can watch progress and cancel
 *   nocors   no CORS headers (the browser must refuse it)
 *   missing  404 for everything
 *   drop     the first request for model.safetensors breaks off at 40% and the network then stays down
 * While `state.down` is true (a test sets it, or `drop` does), every connection is cut at once, as when the
 * network is gone; setting it back to false brings the network back.
 */
export async function startMirror(files) {
  const log = [];
  const brokenOnce = new Set();
  const state = { down: false };
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    const mode = parts.shift();
    if (state.down) {
      log.push({ mode, down: true });
      req.socket.destroy();
      return;
    }
    const cors = mode === "nocors" ? {} : {
      "access-control-allow-origin": "*",
      "access-control-allow-headers": "range",
      "access-control-expose-headers": "content-range, content-length, etag, accept-ranges",
    };
    if (req.method === "OPTIONS") {
      res.writeHead(204, cors).end();
      return;
    }
    const resolveAt = parts.indexOf("resolve");
    const repo = parts.slice(0, resolveAt).join("/");
    const filePath = parts.slice(resolveAt + 2).join("/");
    log.push({ mode, repo, filePath, range: req.headers.range || null });
    const folder = files[repo];
    const file = folder && path.join(folder, filePath);
    if (mode === "missing" || resolveAt < 1 || !file || !fs.existsSync(file)) {
      res.writeHead(404, cors).end("Entry not found");
      return;
    }
    let body = fs.readFileSync(file);
    if (mode === "corrupt" && filePath === "model.safetensors") {
      body = Buffer.from(body);
      body[body.length - 100] ^= 0xff;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range || "");
    const headers = { ...cors, "content-type": "application/octet-stream", "accept-ranges": "bytes" };
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        res.writeHead(416, { ...headers, "content-range": `bytes */${body.length}` }).end();
        return;
      }
      headers["content-range"] = `bytes ${start}-${body.length - 1}/${body.length}`;
    }
    const slice = body.subarray(start);
    headers["content-length"] = slice.length;
    res.writeHead(range ? 206 : 200, headers);
    if (mode === "flaky" && !range && !brokenOnce.has(filePath) && slice.length > 1000) {
      brokenOnce.add(filePath);
      res.write(slice.subarray(0, Math.floor(slice.length / 2)), () => res.socket.destroy());
      return;
    }
    if (mode === "drop" && filePath === "model.safetensors" && !range && !brokenOnce.has(filePath)) {
      brokenOnce.add(filePath);
      state.down = true;
      res.write(slice.subarray(0, Math.floor(slice.length * 0.4)), () => res.socket.destroy());
      return;
    }
    if (mode === "slow") {
      const chunk = 256 * 1024;
      for (let i = 0; i < slice.length && !res.destroyed; i += chunk) {
        res.write(slice.subarray(i, i + chunk));
        await new Promise((r) => setTimeout(r, 60));
      }
      res.end();
      return;
    }
    res.end(slice);
  });
  const port = await listen(server);
  return {
    base: (mode) => `http://127.0.0.1:${port}/${mode}`,
    log,
    state,
    close: () => closeServer(server),
  };
}
