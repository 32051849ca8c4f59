// Scaffolds written by `cliffracer port` (test/fixtures/port/generated/, kept equal to the generator's
// output by test/unit/port/golden.test.ts and compiled by `npm test`'s tsc) started together under one
// `cliffracer run` on real NATS: every RPC method answers NotImplementedError, and a Python caller's
// wrong calls get the IncorrectSignature messages CPython gives for the original methods.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import YAML from "yaml";
import { IncorrectSignature, RemoteError, type RpcClient } from "cliffracer";
import { readModule, type ServiceModel } from "../../../port";
import { NatsFixture, NATS_URL } from "../../helpers/brokers";
import { freePort } from "../../helpers/private-servers";
import { PG_URL, REDIS_URL } from "../../helpers/storage";
import { waitForLine } from "../../helpers/waiters";

jest.setTimeout(60_000);

const root = path.resolve(__dirname, "../../..");
const bin = path.join(root, "bin", "cliffracer.js");
const generated = "test/fixtures/port/generated";
const SOURCES = [
  "test/fixtures/port/nameko_docs.py",
  "test/fixtures/port/nameko_examples.py",
  "test/fixtures/port/signatures.py",
  "test/fixtures/port/typed_service.py",
  "test/fixtures/port/products.py",
  "test/fixtures/port/orders.py",
  "examples/greeting/greeting_service.py",
  "examples/payments/payments.py",
  "examples/demo/user_service.py",
];

/** The RPC methods of every scaffolded service, from the Python they were scaffolded from. */
const services: ServiceModel[] = SOURCES.flatMap(
  (file) => readModule(file, readFileSync(path.join(root, file), "utf8")).services,
);

/** Arguments that bind: 1 for each required parameter, keyword-only ones by keyword. */
function bindingCall(method: ServiceModel["methods"][number]): [unknown[], Record<string, unknown>] {
  const args = method.params.filter((p) => p.kind === "positional" && !p.default).map(() => 1);
  const kwargs = Object.fromEntries(
    method.params.filter((p) => p.kind === "keywordOnly" && !p.default).map((p) => [p.name, 1]),
  );
  return [args, kwargs];
}

// What CPython 3.11 says for these calls of test/fixtures/port/signatures.py's methods, from
// `inspect.getcallargs(SignatureService.<method>, None, *args, **kwargs)` (null: the call binds).
const SIGNATURE_CASES: Array<[string, unknown[], Record<string, unknown>, string | null]> = [
  ["positional", [1], {}, "positional() missing 1 required positional argument: 'b'"],
  ["positional", [1, 2, 3], {}, "positional() takes 3 positional arguments but 4 were given"],
  ["positional", [1], { a: 1, b: 2 }, "positional() got multiple values for argument 'a'"],
  ["positional", [1, 2], { c: 3 }, "positional() got an unexpected keyword argument 'c'"],
  ["positional", [], { b: 2 }, "positional() missing 1 required positional argument: 'a'"],
  ["positional", [], { a: 1, b: 2 }, null],
  ["positional", [1, 2], {}, null],
  ["defaults", [], {}, "defaults() missing 1 required positional argument: 'a'"],
  ["defaults", [1, 2, 3, 4], {}, "defaults() takes from 2 to 4 positional arguments but 5 were given"],
  ["defaults", [1], { c: "y" }, null],
  ["defaults", [1, 2], { b: 3 }, "defaults() got multiple values for argument 'b'"],
  ["defaults", [], { c: 1 }, "defaults() missing 1 required positional argument: 'a'"],
  ["keyword_only", [1], {}, "keyword_only() missing 1 required keyword-only argument: 'flag'"],
  ["keyword_only", [1, true], {}, "keyword_only() takes 2 positional arguments but 3 were given"],
  ["keyword_only", [1], { flag: true }, null],
  [
    "keyword_only",
    [1, 2],
    { flag: true },
    "keyword_only() takes 2 positional arguments but 3 positional arguments (and 1 keyword-only argument) were given",
  ],
  ["keyword_only", [], { flag: 1 }, "keyword_only() missing 1 required positional argument: 'a'"],
  ["keyword_only", [1], { mode: "slow" }, "keyword_only() missing 1 required keyword-only argument: 'flag'"],
  ["everything", [], { key: 1 }, "everything() missing 1 required positional argument: 'a'"],
  ["everything", [1, 2, 3, 4], { key: 1 }, null],
  ["everything", [1], {}, "everything() missing 1 required keyword-only argument: 'key'"],
  ["everything", [1], { key: 1, z: 2 }, null],
  ["everything", [1], { a: 2, key: 1 }, "everything() got multiple values for argument 'a'"],
  ["everything", [], {}, "everything() missing 1 required positional argument: 'a'"],
  ["nothing", [1], {}, "nothing() takes 1 positional argument but 2 were given"],
  ["nothing", [], { x: 1 }, "nothing() got an unexpected keyword argument 'x'"],
  ["nothing", [], {}, null],
];

describe("scaffolds under cliffracer run", () => {
  const fx = new NatsFixture();
  const dir = mkdtempSync(path.join(tmpdir(), "cliff-port-"));
  let child: ChildProcessWithoutNullStreams;
  let client: RpcClient;

  beforeAll(async () => {
    const config = path.join(dir, "config.yaml");
    writeFileSync(
      config,
      YAML.stringify({
        DB_URIS: { "port_orders:DeclarativeBase": PG_URL, "orders:DeclarativeBase": PG_URL },
        REDIS_URIS: { development: REDIS_URL },
        WEB_SERVER_ADDRESS: `127.0.0.1:${await freePort()}`,
      }),
    );
    const modules = readdirSync(path.join(root, generated)).map((f) => `${generated}/${f}`);
    child = spawn(process.execPath, [bin, "run", ...modules, "--config", config], {
      cwd: root,
      env: { ...process.env, NATS_URL, NATS_PREFIX: fx.prefix, LOG_LEVEL: "info" },
    });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    await waitForLine(child.stdout, /"message":"services running"/, 40_000).catch((err: unknown) => {
      throw new Error(`cliffracer run did not start: ${String(err)}\n${stderr}`);
    });
    client = await fx.client();
  }, 50_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
    await fx.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  const rpcMethods = services.flatMap((s) =>
    s.methods.filter((m) => m.entrypoints.some((e) => e.kind === "rpc")).map((m) => [s.name, m.name, m] as const),
  );

  it.each(rpcMethods)("%s.%s answers NotImplementedError until it is ported", async (service, method, model) => {
    const [args, kwargs] = bindingCall(model);
    const err = await client.call(service, method, args, kwargs).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteError);
    expect(err).toMatchObject({ excType: "NotImplementedError" });
    expect((err as RemoteError).value).toBe(`${service}.${method} is not ported yet`);
  });

  it.each(SIGNATURE_CASES)(
    "port_signatures.%s(*%j, **%j) binds as CPython binds it",
    async (method, args, kwargs, message) => {
      const err = await client.call("port_signatures", method, args, kwargs).catch((e: unknown) => e);
      if (message === null) {
        expect(err).toMatchObject({ excType: "NotImplementedError" });
      } else {
        expect(err).toBeInstanceOf(IncorrectSignature);
        expect((err as Error).message).toBe(message);
      }
    },
  );
});
