import { Empty, type NatsConnection } from "@nats-io/transport-node";

interface EndpointInfo {
  subject?: unknown;
  metadata?: { methods?: unknown } | null;
}

/**
 * The services announced under `prefix` that answer `$SRV.INFO` within `waitMs`, each with the
 * `@rpc` method names its instances list (docs/nats-contract.md, Service discovery): an endpoint on
 * `[prefix.]rpc.<name>.*` means `<name>` runs under this prefix; the endpoint's `methods` metadata
 * names its methods. Instances of one service are merged. Answers that are not the services
 * protocol's are skipped; no answer at all (no responders) rejects. `skipBridged` leaves out what a
 * bridge announces for the Nameko services it serves (metadata `bridged`), which the bridge's own
 * discovery must not take for services living on NATS.
 */
export async function discoverServices(
  nc: NatsConnection,
  prefix: string,
  waitMs: number,
  options: { skipBridged?: boolean } = {},
): Promise<Map<string, Set<string>>> {
  const head = prefix === "" ? "rpc." : `${prefix}.rpc.`;
  const found = new Map<string, Set<string>>();
  const replies = await nc.requestMany("$SRV.INFO", Empty, {
    strategy: "stall",
    stall: Math.min(150, waitMs),
    maxWait: waitMs,
  });
  for await (const m of replies) {
    let info: { endpoints?: EndpointInfo[]; metadata?: { bridged?: unknown } | null };
    try {
      info = m.json();
    } catch {
      continue; // not a services-protocol answer
    }
    if (options.skipBridged && info.metadata?.bridged === "true") continue;
    for (const ep of Array.isArray(info.endpoints) ? info.endpoints : []) {
      const subject = ep.subject;
      if (typeof subject !== "string" || !subject.startsWith(head) || !subject.endsWith(".*")) continue;
      const name = subject.slice(head.length, -2);
      if (name === "" || name.includes(".")) continue;
      let methods = found.get(name);
      if (methods === undefined) found.set(name, (methods = new Set()));
      const listed = ep.metadata?.methods;
      if (typeof listed === "string") for (const method of listed.split(",")) if (method !== "") methods.add(method);
    }
  }
  return found;
}
