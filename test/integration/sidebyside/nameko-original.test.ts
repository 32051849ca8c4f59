import { existsSync } from "node:fs";
import { AmqpConnection, AmqpRpcClient } from "../../../amqp";
import { namekoPython, NamekoOriginalFailed, startNamekoOriginal } from "../../../sidebyside";
import { createVhost, type TestVhost } from "../../helpers/rabbit";

jest.setTimeout(60_000);

const GREETING = "examples/greeting/greeting_service.py";

/** Runs `fn` with these environment variables unset, as on a machine without Nameko. */
async function withoutEnv(keys: string[], fn: () => Promise<void>): Promise<void> {
  const saved = keys.map((k) => [k, process.env[k]] as const);
  for (const k of keys) delete process.env[k];
  try {
    await fn();
  } finally {
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  }
}

describe("startNamekoOriginal", () => {
  it("refuses at once without a Python for Nameko, naming NAMEKO_PYTHON", () =>
    withoutEnv(["NAMEKO_PYTHON"], async () => {
      expect(namekoPython()).toBeUndefined();
      await expect(
        startNamekoOriginal({ module: GREETING, classes: ["GreetingService"], amqpUri: "amqp://x" }),
      ).rejects.toThrow(/NAMEKO_PYTHON/);
    }));

  it("reports a Python that cannot be run", async () => {
    const started = startNamekoOriginal({
      module: GREETING,
      classes: ["GreetingService"],
      amqpUri: "amqp://x",
      python: "/nonexistent/python3",
    });
    await expect(started).rejects.toBeInstanceOf(NamekoOriginalFailed);
    await expect(started).rejects.toThrow(/cannot run \/nonexistent\/python3/);
  });

  // Debian's own Python, when the machine has one (a minimal Debian has none; nothing else needs it).
  const systemPython = "/usr/bin/python3";
  if (!existsSync(systemPython))
    process.stdout.write(`nameko-original.test.ts: the no-nameko case skipped: ${systemPython} is not installed\n`);
  (existsSync(systemPython) ? it : it.skip)("reports a Python without nameko with what it printed", () =>
    // The machine's Python with nothing added to its path imports no nameko.
    withoutEnv(["PYTHONPATH"], async () => {
      const started = startNamekoOriginal({
        module: GREETING,
        classes: ["GreetingService"],
        amqpUri: "amqp://x",
        python: systemPython,
      });
      await expect(started).rejects.toThrow(/exited \(1\) before starting: .*ModuleNotFoundError: No module named/s);
    }),
  );
});

const python = namekoPython();
const live = python ? describe : describe.skip;
if (!python) process.stdout.write("nameko-original.test.ts: live Nameko tests skipped: NAMEKO_PYTHON is not set\n");

live("a live Nameko original (NAMEKO_PYTHON)", () => {
  let vhost: TestVhost;
  beforeAll(async () => (vhost = await createVhost("cliff-original")));
  afterAll(() => vhost.delete());

  it("runs the greeting original, which answers a Nameko-protocol call, and stops on request", async () => {
    const original = await startNamekoOriginal({ module: GREETING, classes: ["GreetingService"], amqpUri: vhost.uri });
    const connection = new AmqpConnection({ uri: vhost.uri, connectionName: "nameko-original-test" });
    try {
      await connection.start();
      const client = new AmqpRpcClient({ connection, timeoutMs: 10_000 });
      await client.start();
      await expect(client.call("greeting_service", "hello", ["Ada"], { punctuation: "?" })).resolves.toBe(
        "Hello, Ada?",
      );
      await client.stop();
    } finally {
      await connection.close();
      await original.stop();
    }
    expect(original.process.exitCode ?? original.process.signalCode).not.toBeNull();
  });
});
