// WebSocket RPC from a real browser: headless Chromium (Debian's, installed by
// scripts/ensure-servers.sh) opens the chat example's page, served by the service's own @http, which
// connects to /ws, calls a method, subscribes and receives a broadcast (docs/websocket.md).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import type { ServiceContainer } from "cliffracer";
import { ChatService } from "../../../examples/websocket/chat-service";
import { WsRpcEntrypoint } from "../../../src/entrypoints/websocket";
import { NatsFixture } from "../../helpers/brokers";
import { WsClient } from "../../helpers/ws-client";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

function wsUrl(container: ServiceContainer): string {
  const entrypoint = container.entrypoints.find((e): e is WsRpcEntrypoint => e instanceof WsRpcEntrypoint);
  if (!entrypoint?.url) throw new Error(`${container.serviceName} has no started @wsRpc entrypoint`);
  return entrypoint.url;
}

/** What the chat page puts on its window (examples/websocket/chat-page.ts). */
interface ChatWindow {
  chat: { socketId: string | null; call(method: string, data: Record<string, unknown>): Promise<unknown> };
}
// The functions given to page.evaluate run in the page, where globalThis is its window.

describe("websocket rpc in a browser", () => {
  const fx = new NatsFixture({ webServerAddress: "127.0.0.1:0" });
  let profile: string;
  let browser: BrowserContext | undefined;
  let page: Page;
  let url: string;
  let node: WsClient;

  beforeAll(async () => {
    url = wsUrl(await fx.start(ChatService));
    profile = await mkdtemp(join(tmpdir(), "cliffracer-chromium-"));
    // No skip when it cannot start: CI installs chromium (scripts/ensure-servers.sh), so this must fail loudly.
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: CHROMIUM_ARGS,
      headless: true,
      timeout: 20_000,
    });
    page = browser.pages()[0] ?? (await browser.newPage());
    node = await WsClient.connect(url);
  });
  afterAll(async () => {
    node?.socket.terminate();
    await browser?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await fx.cleanup();
  });

  const logLine = (text: string | RegExp) => page.locator("#log li", { hasText: text });

  it("connects, calls join to subscribe, and receives a broadcast from another socket", async () => {
    expect(await node.call("join", { room: "lobby" })).toMatchObject({ success: true, data: ["lobby"] });
    await page.goto(url.replace(/^ws/, "http").replace(/\/ws$/, "/#lobby"));
    await logLine("joined lobby").waitFor({ timeout: 10_000 });
    const pageSocket = await page.evaluate(() => (globalThis as unknown as ChatWindow).chat.socketId);
    expect(pageSocket).toMatch(/^[0-9a-f-]{36}$/);

    // Node is in the room too: its own broadcast comes before its reply.
    expect(await node.exchange('{"method": "say", "data": {"room": "lobby", "text": "hello from node"}}')).toContain(
      '"event": "message"',
    );
    expect(await node.next()).toBe('{"type": "result", "success": true, "data": true, "correlation_id": null}');
    await logLine(`message from ${node.socketId}: hello from node`).waitFor({ timeout: 10_000 });
  });

  it("calls from the page: a broadcast reaches the other socket, a method's error comes back as the error frame", async () => {
    const pageSocket = await page.evaluate(() => (globalThis as unknown as ChatWindow).chat.socketId);
    const said = page.evaluate(() =>
      (globalThis as unknown as ChatWindow).chat.call("say", { room: "lobby", text: "hello from the browser" }),
    );
    expect(await node.next()).toBe(
      `{"type": "event", "event": "message", "data": {"room": "lobby", "text": "hello from the browser", "from": "${pageSocket}"}}`,
    );
    expect(await said).toBe(true);
    const error = await page.evaluate(() =>
      (globalThis as unknown as ChatWindow).chat.call("say", { room: "lobby", text: "" }).then(
        () => "no error",
        (err: Error) => err.message,
      ),
    );
    expect(error).toBe("BadRequest: text must not be empty");
  });
});
