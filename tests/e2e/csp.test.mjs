// The Content Security Policy: index.html carries it as a meta tag; no page breaks it (every route visited,
// then a VAD file job played back and the search sample built and searched, WebGPU on and off); and it is in
// force: an injected inline script is refused. That eval is refused too is checked on the policy's text:
// code run through the DevTools protocol, as Playwright's `evaluate` is, may generate code whatever the
// page's policy says.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { launch, openApp } from "./lib/browser.mjs";
import { startServers, appUrl, PAGES, DIST } from "./lib/app.mjs";
import { VAD_WAV } from "./lib/voice.mjs";

let servers;
before(async () => { servers = await startServers(); });
after(async () => { await servers?.close(); });

/** Records every CSP violation a page reports, from before the app's first script runs. */
async function watchViolations(context) {
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (e) => {
      window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "inline"} (${e.sourceFile}:${e.lineNumber})`);
    });
  });
}
const violations = (page) => page.evaluate(() => window.__cspViolations ?? ["no watcher"]);

test("the built app has a strict policy and no inline script", () => {
  const html = fs.readFileSync(`${DIST}/index.html`, "utf8");
  const policy = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)">/)?.[1];
  assert.ok(policy, "a CSP meta tag");
  const directives = Object.fromEntries(policy.split(";").map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
  assert.deepEqual(directives["script-src"], ["'self'", "'wasm-unsafe-eval'"]);
  assert.deepEqual(directives["object-src"], ["'none'"]);
  assert.ok(!policy.includes("'unsafe-eval'") && !/script-src[^;]*unsafe-inline/.test(policy), policy);
  // The app's own origin, its own blob: URLs (local data) and the Hub; nothing else.
  assert.ok(directives["connect-src"].every((s) => s === "'self'" || s === "blob:" || /^https:\/\/(\*\.)?(huggingface\.co|hf\.co)$/.test(s)), policy);
  // The policy comes before anything it governs, and no script is inline.
  assert.ok(html.indexOf("Content-Security-Policy") < html.indexOf("<script"), "the meta tag comes first");
  for (const tag of html.match(/<script[^>]*>/g)) assert.match(tag, / src=/, `inline script: ${tag}`);
});

for (const webgpu of [false, true]) {
  test(`no page breaks the policy, with its jobs run (WebGPU ${webgpu ? "on" : "off"})`, async () => {
    const b = await launch({ webgpu });
    try {
      await watchViolations(b.context);
      const mirror = `models=${encodeURIComponent(servers.mirror.base("good"))}`;
      const page = await openApp(b.context, appUrl(servers.app, "/", mirror));
      for (const route of PAGES) {
        await page.goto(appUrl(servers.app, route, mirror));
        await page.waitForSelector("main h1", { timeout: 60_000 });
        await page.waitForTimeout(300);
        assert.deepEqual(await violations(page), [], route);
      }
      // Jobs: a VAD file job (plot, segments, audio from a blob), the search sample built and searched.
      await page.goto(appUrl(servers.app, "/vad", mirror));
      await page.setInputFiles("input[type=file]", VAD_WAV);
      await page.waitForSelector("#vad-summary", { timeout: 90_000 });
      await page.click(".segments li:first-child button.segment-play");
      await page.waitForSelector(".segments li:first-child audio", { timeout: 10_000 });
      await page.goto(appUrl(servers.app, "/search", `${mirror}&c=sample&q=${encodeURIComponent("ocean tides")}`));
      await page.waitForSelector("#hits li", { timeout: 240_000 });
      assert.deepEqual(await violations(page), [], "after the jobs");
      assert.deepEqual(b.errors, []);
    } finally {
      await b.close();
    }
  });
}

test("the policy is in force: an injected inline script is refused", async () => {
  const b = await launch({ webgpu: false });
  try {
    await watchViolations(b.context);
    const page = await openApp(b.context, appUrl(servers.app, "/"));
    const outcome = await page.evaluate(async () => {
      const s = document.createElement("script");
      s.textContent = "window.__injected = true;";
      document.head.appendChild(s);
      await new Promise((r) => setTimeout(r, 100));
      return { injected: window.__injected === true };
    });
    assert.deepEqual(outcome, { injected: false });
    const seen = await violations(page);
    assert.ok(seen.some((v) => v.startsWith("script-src-elem blocked inline")), seen.join("\n"));
  } finally {
    await b.close();
  }
});
