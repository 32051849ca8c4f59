import { readFileSync } from "fs";
import { resolve } from "path";
import * as compatErrors from "../../../compat/errors";
import * as compatJson from "../../../compat/json";
import * as runtimeErrors from "../../../src/errors";
import * as eventPublisher from "../../../src/client/event-publisher";
import * as bridgeErrors from "../../../bridge/errors";
import * as bridgeEventOutbound from "../../../bridge/nats/event-outbound";
import * as amqpHeaders from "../../../amqp/headers";
import * as sqlProvider from "../../../providers/sql";
import * as redisProvider from "../../../providers/redis";

// An error class is added together with its MIGRATION.md row; this keeps the catalogue honest.
const modules = [
  compatErrors,
  compatJson,
  runtimeErrors,
  eventPublisher,
  bridgeErrors,
  bridgeEventOutbound,
  amqpHeaders,
  sqlProvider,
  redisProvider,
];

function errorClassNames(): string[] {
  const names = new Set<string>();
  for (const mod of modules) {
    for (const [name, value] of Object.entries(mod)) {
      if (typeof value === "function" && value.prototype instanceof Error) names.add(name);
    }
  }
  return [...names].sort();
}

describe("error catalogue", () => {
  const migration = readFileSync(resolve(__dirname, "../../../MIGRATION.md"), "utf8");

  it("finds the exported error classes", () => {
    expect(errorClassNames()).toEqual(
      expect.arrayContaining(["MethodNotFound", "RemoteError", "BridgeLoop", "EventNotStored", "InvalidHeader"]),
    );
  });

  it("documents every exported error class in MIGRATION.md", () => {
    const undocumented = errorClassNames().filter((name) => !migration.includes(`\`${name}\``));
    expect(undocumented).toEqual([]);
  });
});
