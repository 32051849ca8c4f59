/**
 * Re-records the cassettes committed beside the examples from their real Nameko originals
 * (docs/cassettes.md, Recording the examples). Needs a Python that imports nameko:
 *
 *   NAMEKO_PYTHON=python3 npx ts-node --transpile-only scripts/record-example-cassettes.ts [example...]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { rootLogger } from "../src";
import { namekoPython, parseCallsFile, parseEventsFile, recordOriginal, startNamekoOriginal } from "../sidebyside";
import { runWsSession, type WsSession } from "../test/helpers/websocket-session";

/** One example: the originals to run, the service recorded, its calls and events files and its cassette. */
interface Example {
  originals: Array<{ module: string; classes: string[] }>;
  service: string;
  /** A calls file (docs/cassettes.md, Calls files), sent first. */
  calls?: string;
  /** An events file, dispatched to the service's handlers after the calls. */
  events?: string;
  cassette: string;
}

const EXAMPLES: Record<string, Example> = {
  greeting: {
    originals: [
      { module: "examples/greeting/greeting_service.py", classes: ["GreetingService"] },
      { module: "examples/demo/user_service.py", classes: ["UserService"] },
    ],
    service: "greeting_service",
    calls: "examples/greeting/side-by-side.calls.json",
    cassette: "examples/greeting/greeting_service.cassette.jsonl",
  },
  payments: {
    originals: [{ module: "examples/payments/payments.py", classes: ["NotificationService"] }],
    service: "notifications",
    events: "examples/payments/side-by-side.events.json",
    cassette: "examples/payments/notifications.cassette.jsonl",
  },
};

/** WebSocket examples: a session of frames sent to the original, and every frame it sent back. */
const WEBSOCKET_EXAMPLES: Record<string, { module: string; classes: string[]; session: string; transcript: string }> = {
  websocket: {
    module: "examples/websocket/chat_service.py",
    classes: ["ChatService"],
    session: "examples/websocket/side-by-side.session.json",
    transcript: "examples/websocket/chat.transcript.json",
  },
};

/** A port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.once("error", reject);
  });
}

async function recordWebSocket(name: string, example: (typeof WEBSOCKET_EXAMPLES)[string]): Promise<void> {
  const port = await freePort();
  const original = await startNamekoOriginal({
    module: example.module,
    classes: example.classes,
    amqpUri: process.env.AMQP_URI ?? "amqp://guest:guest@127.0.0.1:5672",
    config: { WEB_SERVER_ADDRESS: `127.0.0.1:${port}` },
  });
  try {
    const session = JSON.parse(readFileSync(example.session, "utf8")) as WsSession;
    const transcript = await runWsSession(`ws://127.0.0.1:${port}/ws`, session);
    writeFileSync(example.transcript, `${JSON.stringify(transcript, null, 2)}\n`);
    process.stdout.write(`${name}: ${session.steps.length} steps -> ${example.transcript}\n`);
  } finally {
    await original.stop();
  }
}

async function main(names: string[]): Promise<void> {
  if (namekoPython() === undefined) throw new Error("set NAMEKO_PYTHON to a Python that imports nameko");
  for (const name of names.length > 0 ? names : [...Object.keys(EXAMPLES), ...Object.keys(WEBSOCKET_EXAMPLES)]) {
    const ws = WEBSOCKET_EXAMPLES[name];
    if (ws !== undefined) {
      await recordWebSocket(name, ws);
      continue;
    }
    const example = EXAMPLES[name];
    if (example === undefined)
      throw new Error(
        `no example ${name}; known: ${[...Object.keys(EXAMPLES), ...Object.keys(WEBSOCKET_EXAMPLES)].join(", ")}`,
      );
    const summary = await recordOriginal({
      originals: example.originals,
      service: example.service,
      calls: example.calls === undefined ? [] : parseCallsFile(readFileSync(example.calls, "utf8")),
      events: example.events === undefined ? undefined : parseEventsFile(readFileSync(example.events, "utf8")),
      out: example.cassette,
      log: rootLogger,
    });
    process.stdout.write(
      `${name}: ${summary.calls} calls, ${summary.events} events, ${summary.handled} handled events -> ${example.cassette}\n`,
    );
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
