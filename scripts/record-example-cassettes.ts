/**
 * Re-records the cassettes committed beside the examples from their real Nameko originals
 * (docs/cassettes.md, Recording the examples). Needs a Python that imports nameko:
 *
 *   NAMEKO_PYTHON=python3 npx ts-node --transpile-only scripts/record-example-cassettes.ts [example...]
 *
 * For each example it makes a private RabbitMQ vhost through the management API, runs the Nameko
 * originals there, records the recorded service with `record` while a Nameko-protocol client sends
 * the example's calls file, then deletes the vhost.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { AmqpConnection, AmqpRpcClient, defaultManagementUrl, ManagementApi } from "../amqp";
import { decodeJson, type ContextData } from "../compat";
import { rootLogger } from "../src";
import { namekoPython, record, startNamekoOriginal, type NamekoOriginal } from "../sidebyside";

/** One example: the originals to run, the service recorded, its calls and its cassette. */
interface Example {
  originals: Array<{ module: string; classes: string[] }>;
  service: string;
  calls: string;
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
};

/** One line of a calls file (docs/cassettes.md, Calls files). */
interface CallSpec {
  method: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  context?: ContextData;
}

const AMQP_BASE = process.env.AMQP_URI ?? "amqp://guest:guest@127.0.0.1:5672";

async function recordExample(name: string, example: Example): Promise<void> {
  const vhost = `cliffracer-cassette-${name}-${randomBytes(3).toString("hex")}`;
  const url = new URL(AMQP_BASE);
  url.pathname = `/${vhost}`;
  const amqpUri = url.toString();
  const management = new ManagementApi(defaultManagementUrl(amqpUri));
  await management.putJson(`/api/vhosts/${vhost}`, {});
  await management.putJson(`/api/permissions/${vhost}/guest`, { configure: ".*", write: ".*", read: ".*" });
  const originals: NamekoOriginal[] = [];
  const connection = new AmqpConnection({ uri: amqpUri, connectionName: "record-example-cassettes" });
  try {
    for (const original of example.originals) originals.push(await startNamekoOriginal({ ...original, amqpUri }));
    const calls = decodeJson(readFileSync(example.calls, "utf8")) as CallSpec[];
    await connection.start();
    const client = new AmqpRpcClient({ connection, timeoutMs: 10_000 });
    await client.start();
    let listening = (): void => undefined;
    const ready = new Promise<void>((resolve) => (listening = resolve));
    const recording = record({
      side: "amqp",
      services: [example.service],
      out: example.cassette,
      amqpUri,
      natsUrl: "",
      max: calls.length,
      seconds: 60,
      onListening: () => listening(),
      log: rootLogger,
    });
    await ready;
    for (const call of calls) {
      await client
        .call(example.service, call.method, call.args ?? [], call.kwargs ?? {}, { contextData: call.context })
        .catch(() => undefined); // an error reply is recorded like any other
    }
    const summary = await recording;
    process.stdout.write(`${name}: ${summary.calls} calls, ${summary.events} events -> ${example.cassette}\n`);
    await client.stop();
  } finally {
    await connection.close();
    for (const original of originals) await original.stop();
    await management.delete(`/api/vhosts/${vhost}`);
  }
}

async function main(names: string[]): Promise<void> {
  if (namekoPython() === undefined) throw new Error("set NAMEKO_PYTHON to a Python that imports nameko");
  for (const name of names.length > 0 ? names : Object.keys(EXAMPLES)) {
    const example = EXAMPLES[name];
    if (example === undefined) throw new Error(`no example ${name}; known: ${Object.keys(EXAMPLES).join(", ")}`);
    await recordExample(name, example);
  }
}

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
