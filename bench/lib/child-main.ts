/**
 * Entry point of every bench child process: loads one role module, reports "ready", then runs the
 * runner's commands one by one over IPC. argv: <role module path> <options JSON>.
 */
import "reflect-metadata";
import { resolve } from "node:path";
import { register } from "tsconfig-paths";
import { describeError, type ChildMessage, type CommandMessage, type StartRole } from "./role";

// "cliffracer" names our compiled src/ (this file runs from the compiled tree, lib/build.ts). Only
// these names are mapped: tsconfig-paths/register with the tsconfig's baseUrl also remaps imports
// inside node_modules (it sent @nats-io/nats-core to a .d.ts file).
register({
  baseUrl: resolve(__dirname, "..", ".."),
  paths: { cliffracer: ["src/index"], "cliffracer/testing": ["src/testing/index"] },
  addMatchAll: false,
});

function send(message: ChildMessage): void {
  if (process.send) process.send(message);
}

function fatal(err: unknown): void {
  send({ type: "fatal", error: describeError(err) });
  // Give the IPC message a moment to leave before the process goes.
  setTimeout(() => process.exit(1), 50);
}

process.on("uncaughtException", fatal);
process.on("unhandledRejection", fatal);
// The runner went away (crashed or killed): nothing left to report to.
process.on("disconnect", () => process.exit(2));

async function main(): Promise<void> {
  const [modulePath, optionsJson] = process.argv.slice(2);
  const mod = (await import(modulePath)) as { start?: StartRole };
  if (typeof mod.start !== "function") throw new Error(`${modulePath} exports no start()`);
  const role = await mod.start(JSON.parse(optionsJson ?? "{}") as Record<string, unknown>);
  process.on("message", (raw: CommandMessage) => {
    const { id, command, arg } = raw;
    const work = command === "stop" ? role.stop() : role.handle(command, arg);
    work.then(
      (value) => {
        send({ type: "reply", id, ok: true, value: value ?? null });
        if (command === "stop") setTimeout(() => process.exit(0), 20);
      },
      (err: unknown) => {
        send({ type: "reply", id, ok: false, error: describeError(err) });
        if (command === "stop") setTimeout(() => process.exit(1), 20);
      },
    );
  });
  send({ type: "ready" });
}

main().catch(fatal);
