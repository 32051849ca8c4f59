/**
 * Re-records the cassettes committed beside the examples from their real Nameko originals
 * (docs/cassettes.md, Recording the examples). Needs a Python that imports nameko:
 *
 *   NAMEKO_PYTHON=python3 npx ts-node --transpile-only scripts/record-example-cassettes.ts [example...]
 */
import { readFileSync, writeFileSync } from "node:fs";
import IORedis from "ioredis";
import { Client } from "pg";
import { rootLogger } from "../src";
import { namekoPython, parseCallsFile, parseEventsFile, recordOriginal, startNamekoOriginal } from "../sidebyside";
import { freePort } from "../test/helpers/private-servers";
import { runWsSession, type WsSession } from "../test/helpers/websocket-session";

/** One example: the originals to run, the service recorded, its calls and events files and its cassette. */
interface Example {
  originals: Array<{ module: string; classes: string[]; config?: Record<string, unknown>; pythonPath?: string[] }>;
  /** Run first, e.g. to empty the original's storage. */
  before?: () => Promise<void>;
  /** Run last, whatever happened. */
  after?: () => Promise<void>;
  service: string;
  /** A calls file (docs/cassettes.md, Calls files), sent first. */
  calls?: string;
  /** An events file, dispatched to the service's handlers after the calls. */
  events?: string;
  cassette: string;
}

/** A nameko-examples checkout, for the originals of products and orders (they are not in this repo). */
const NAMEKO_EXAMPLES = process.env.NAMEKO_EXAMPLES ?? "";
/** The Redis database the products original records on; emptied first. */
const PRODUCTS_REDIS = "redis://127.0.0.1:6379/14";

/** The PostgreSQL schema the orders original records in: made afresh with the port's migration. */
const ORDERS_SCHEMA = "cliffracer_orders_recording";
const PG_URL = process.env.PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

async function onPostgres(statements: string[]): Promise<void> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  try {
    for (const sql of statements) await client.query(sql);
  } finally {
    await client.end();
  }
}

const dropOrdersSchema = (): Promise<void> => onPostgres([`DROP SCHEMA IF EXISTS ${ORDERS_SCHEMA} CASCADE`]);

const freshOrdersSchema = async (): Promise<void> => {
  await dropOrdersSchema();
  await onPostgres([
    `CREATE SCHEMA ${ORDERS_SCHEMA}`,
    `SET search_path TO ${ORDERS_SCHEMA}`,
    readFileSync("examples/orders/migrations/001_initial_schema.sql", "utf8"),
  ]);
};

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
  products: {
    originals: [
      {
        module: `${NAMEKO_EXAMPLES}/products/products/service.py`,
        classes: ["ProductsService"],
        config: { REDIS_URI: PRODUCTS_REDIS },
        pythonPath: [`${NAMEKO_EXAMPLES}/products`],
      },
    ],
    before: async () => {
      const redis = new IORedis(PRODUCTS_REDIS);
      await redis.flushdb();
      redis.disconnect();
    },
    service: "products",
    calls: "examples/products/side-by-side.calls.json",
    events: "examples/products/side-by-side.events.json",
    cassette: "examples/products/products.cassette.jsonl",
  },
  orders: {
    originals: [
      {
        module: `${NAMEKO_EXAMPLES}/orders/orders/service.py`,
        classes: ["OrdersService"],
        config: { DB_URIS: { "orders:Base": `${PG_URL}?options=-csearch_path%3D${ORDERS_SCHEMA}` } },
        pythonPath: [`${NAMEKO_EXAMPLES}/orders`],
      },
    ],
    before: freshOrdersSchema,
    after: dropOrdersSchema,
    service: "orders",
    calls: "examples/orders/side-by-side.calls.json",
    cassette: "examples/orders/orders.cassette.jsonl",
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
    await example.before?.();
    let summary;
    try {
      summary = await recordOriginal({
        originals: example.originals,
        service: example.service,
        calls: example.calls === undefined ? [] : parseCallsFile(readFileSync(example.calls, "utf8")),
        events: example.events === undefined ? undefined : parseEventsFile(readFileSync(example.events, "utf8")),
        out: example.cassette,
        log: rootLogger,
      });
    } finally {
      await example.after?.();
    }
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
