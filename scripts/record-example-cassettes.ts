/**
 * Re-records the cassettes committed beside the examples from their real Nameko originals
 * (docs/cassettes.md, Recording the examples). Needs a Python that imports nameko:
 *
 *   NAMEKO_PYTHON=python3 npx ts-node --transpile-only scripts/record-example-cassettes.ts [example...]
 */
import { readFileSync } from "node:fs";
import { rootLogger } from "../src";
import { namekoPython, parseCallsFile, parseEventsFile, recordOriginal } from "../sidebyside";

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

async function main(names: string[]): Promise<void> {
  if (namekoPython() === undefined) throw new Error("set NAMEKO_PYTHON to a Python that imports nameko");
  for (const name of names.length > 0 ? names : Object.keys(EXAMPLES)) {
    const example = EXAMPLES[name];
    if (example === undefined) throw new Error(`no example ${name}; known: ${Object.keys(EXAMPLES).join(", ")}`);
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
