// The chat example's port against its Nameko original, frame by frame: the same scripted session
// of two clients (calls, a broadcast, a unicast to nobody, errors and bad input) is run against
// the port, and every frame each client got must equal what the real original sent
// (examples/websocket/chat.transcript.json, recorded on Nameko 2.14.1; docs/side-by-side.md,
// WebSocket services). With NAMEKO_PYTHON set, the live original is run too.
import { readFileSync } from "node:fs";
import type { ServiceContainer } from "cliffracer";
import { ChatService } from "../../../examples/websocket/chat-service";
import { diffValues, formatDifference, namekoPython, startNamekoOriginal } from "../../../sidebyside";
import { WsRpcEntrypoint } from "../../../src/entrypoints/websocket";
import { NatsFixture } from "../../helpers/brokers";
import { freePort } from "../../helpers/private-servers";
import { runWsSession, type WsSession, type WsTranscript } from "../../helpers/websocket-session";

jest.setTimeout(60_000);

const session = JSON.parse(readFileSync("examples/websocket/side-by-side.session.json", "utf8")) as WsSession;
const recorded = JSON.parse(readFileSync("examples/websocket/chat.transcript.json", "utf8")) as WsTranscript;

function wsUrl(container: ServiceContainer): string {
  const entrypoint = container.entrypoints.find((e): e is WsRpcEntrypoint => e instanceof WsRpcEntrypoint);
  if (!entrypoint?.url) throw new Error("the chat port has no started /ws");
  return entrypoint.url;
}

/** One line per difference: path, the original's value, the port's. */
const differences = (original: WsTranscript, port: WsTranscript): string[] =>
  diffValues(original, port, "frames").map(formatDifference);

describe("the chat port side by side with its Nameko original", () => {
  const fx = new NatsFixture({ webServerAddress: "127.0.0.1:0" });
  let port: WsTranscript;

  beforeAll(async () => {
    port = await runWsSession(wsUrl(await fx.start(ChatService)), session);
  });
  afterAll(() => fx.cleanup());

  it("sends every client the frames the original sent, in order (against its recorded transcript)", () => {
    expect(differences(recorded, port)).toEqual([]);
    expect(recorded.ada?.length).toBeGreaterThan(session.steps.length / 2);
  });

  const python = namekoPython();
  if (!python)
    process.stdout.write("websocket-side-by-side.test.ts: live original skipped: NAMEKO_PYTHON is not set\n");
  (python ? it : it.skip)("sends every client the frames the live original sends (NAMEKO_PYTHON)", async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const original = await startNamekoOriginal({
      module: "examples/websocket/chat_service.py",
      classes: ["ChatService"],
      amqpUri: process.env.AMQP_URI ?? "amqp://guest:guest@127.0.0.1:5672",
      config: { WEB_SERVER_ADDRESS: address },
    });
    try {
      expect(differences(await runWsSession(`ws://${address}/ws`, session), port)).toEqual([]);
    } finally {
      await original.stop();
    }
  });
});
