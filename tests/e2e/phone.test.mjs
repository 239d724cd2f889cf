// A first visit on a phone: every route at 360×740 and 390×844 is never wider than the screen and clips no
// control, with its settings panels open, before and after a job has run (a VAD file job and the search
// sample); people never see test checkpoints in a list unless developer mode is on; the Models page says the
// bundled VAD ships with the app. Screenshots of every page at both sizes go to test-artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { chromium } from "playwright-core";
import { startServers, appUrl, PAGES } from "./lib/app.mjs";
import { CHROMIUM, ARTIFACTS } from "./lib/browser.mjs";
import { VAD_WAV, WHISPER_TINY } from "./lib/voice.mjs";
import { startMirror } from "./lib/servers.mjs";

const PHONES = [[360, 740], [390, 844]];
let servers;
let browser;
before(async () => {
  servers = await startServers();
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
});
after(async () => {
  await browser?.close();
  await servers?.close();
});

const mirror = () => `models=${encodeURIComponent(servers.mirror.base("good"))}`;

/** What sticks out of the screen or is cut off inside its box (visually-hidden labels excepted). */
async function overflow(page) {
  await page.$$eval("details", (ds) => ds.forEach((d) => { d.open = true; }));
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const out = [];
    if (document.documentElement.scrollWidth > vw) out.push(`document is ${document.documentElement.scrollWidth} px wide`);
    for (const el of document.querySelectorAll("body *")) {
      if (el.closest(".visually-hidden")) continue;
      const box = el.getBoundingClientRect();
      if (box.width === 0 || box.height === 0) continue;
      const name = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""} "${(el.textContent || "").trim().slice(0, 30)}"`;
      // Wholly left of the screen is the skip link's hide-until-focused place, which scrolls nothing.
      if (box.right > vw + 0.5 || (box.left < -0.5 && box.right > 0)) out.push(`${name} spans ${Math.round(box.left)}–${Math.round(box.right)}`);
      const control = el.matches("button, label, select, a, .plan-choice, h1, h2, h3");
      if (control && el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX !== "visible") {
        out.push(`${name} is clipped (${el.scrollWidth} in ${el.clientWidth})`);
      }
    }
    return out.slice(0, 10);
  });
}

for (const [width, height] of PHONES) {
  test(`every page fits a ${width}×${height} phone, before and after a job`, async () => {
    const context = await browser.newContext({ viewport: { width, height }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    try {
      const page = await context.newPage();
      for (const route of PAGES) {
        await page.goto(appUrl(servers.app, route, mirror()));
        await page.waitForSelector("main h1", { timeout: 60_000 });
        // The probe and the plan fill the Device and Models pages in.
        await page.waitForTimeout(route === "/device" ? 4000 : 800);
        assert.deepEqual(await overflow(page), [], `${route} at ${width} px`);
        const name = route === "/" ? "home" : route.slice(1);
        await page.screenshot({ path: path.join(ARTIFACTS, `phone-${name}-${width}x${height}.png`), fullPage: true });
      }
      // After jobs: a VAD file with its segments listed, and a built search collection with results.
      await page.goto(appUrl(servers.app, "/vad"));
      await page.setInputFiles("input[type=file]", VAD_WAV);
      await page.waitForSelector("ol.segments li", { timeout: 120_000 });
      assert.deepEqual(await overflow(page), [], `/vad after a file at ${width} px`);
      await page.goto(appUrl(servers.app, "/search", `${mirror()}&c=sample&q=${encodeURIComponent("volcano eruptions")}`));
      await page.waitForSelector("#hits li", { timeout: 240_000 });
      assert.deepEqual(await overflow(page), [], `/search with results at ${width} px`);
    } finally {
      await context.close();
    }
  });
}

test("test checkpoints stay out of people's lists unless developer mode is on; the bundled VAD ships with the app", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
  try {
    const page = await context.newPage();
    const options = async () => {
      await page.goto(appUrl(servers.app, "/device", mirror()));
      await page.waitForSelector("#variant-transcribe", { timeout: 90_000 });
      return page.$$eval("#variant-transcribe option", (os) => os.map((o) => o.value));
    };
    const listed = async () => {
      await page.goto(appUrl(servers.app, "/models", mirror()));
      await page.waitForSelector("li.model", { timeout: 60_000 });
      return page.$$eval("li.model", (ls) => ls.map((l) => l.dataset.variant));
    };
    // A mirror is set, as a developer's would be; still nothing random-weight is offered.
    assert.ok(!(await options()).includes("whisper-tiny-random"), "Device page");
    const models = await listed();
    assert.ok(!models.includes("whisper-tiny-random"), "Models page");
    assert.ok(models.includes("whisper-tiny-en"), "real models are listed");
    const vad = page.locator('li.model[data-variant="silero-vad-16k"]');
    assert.match(await vad.textContent(), /Ships with the app .*works offline/);
    assert.equal(await vad.locator("button.download").count(), 0, "nothing to download");
    await page.evaluate(() => localStorage.setItem("offgrid.developer", "1"));
    assert.ok((await options()).includes("whisper-tiny-random"), "developer mode lists it");
    assert.ok((await listed()).includes("whisper-tiny-random"));

    // A developer downloads it from a test mirror, then leaves developer mode and clears the mirror: the
    // stored files stay listed, so their storage can still be freed.
    const own = await startMirror({ "offgrid-test/whisper-tiny-random": WHISPER_TINY });
    try {
      await page.goto(appUrl(servers.app, "/models", `models=${encodeURIComponent(own.base("good"))}`));
      const row = 'li.model[data-variant="whisper-tiny-random"]';
      await page.click(`${row} button.download`);
      await page.waitForSelector(`${row} .status.ready`, { timeout: 120_000 });
    } finally {
      await own.close();
    }
    await page.evaluate(() => localStorage.removeItem("offgrid.developer"));
    await page.goto(appUrl(servers.app, "/models"));
    const row = 'li.model[data-variant="whisper-tiny-random"]';
    await page.waitForSelector(`${row} button.delete`, { timeout: 60_000 });
    await page.click(`${row} button.delete`);
    await page.waitForSelector(row, { state: "detached", timeout: 60_000 });
  } finally {
    await context.close();
  }
});
