/**
 * The methods a routed service has, for refusing a route table that names anything else
 * (docs/routing.md, The route table): those its config lists, and those its port announces on
 * `$SRV` while running under the service's private prefix.
 */
import { Empty, type NatsConnection } from "@nats-io/transport-node";

/** How long the `$SRV.INFO` look-up waits for answers. */
export const DEFAULT_KNOWN_METHODS_WAIT_MS = 500;

interface EndpointInfo {
  subject?: unknown;
  metadata?: { methods?: unknown } | null;
}

/**
 * The methods the port of `service` announces: endpoints of `$SRV.INFO.<service>` answers whose
 * subject is under `<portPrefix>.rpc.<service>.`, each listing its methods in its `methods`
 * metadata (an endpoint on one method's subject names that method). Answers under other prefixes
 * (the bridge's own announcement, other tests' or environments' instances) are left out. No answer:
 * an empty set.
 */
export async function announcedMethods(
  nc: NatsConnection,
  service: string,
  portPrefix: string,
  waitMs = DEFAULT_KNOWN_METHODS_WAIT_MS,
): Promise<Set<string>> {
  const head = `${portPrefix}.rpc.${service}.`;
  const found = new Set<string>();
  try {
    const replies = await nc.requestMany(`$SRV.INFO.${service}`, Empty, {
      strategy: "stall",
      stall: Math.min(150, waitMs),
      maxWait: waitMs,
    });
    for await (const m of replies) {
      let info: { endpoints?: unknown };
      try {
        info = m.json();
      } catch {
        continue; // not a services-protocol answer
      }
      for (const ep of Array.isArray(info.endpoints) ? (info.endpoints as EndpointInfo[]) : []) {
        if (typeof ep.subject !== "string" || !ep.subject.startsWith(head)) continue;
        const tail = ep.subject.slice(head.length);
        if (tail !== "*" && tail !== ">" && !tail.includes(".")) found.add(tail);
        const listed = ep.metadata?.methods;
        if (typeof listed === "string") for (const method of listed.split(",")) if (method !== "") found.add(method);
      }
    }
  } catch (err) {
    // Nothing at all answers (no instance of that name anywhere): the port announces nothing.
    if (!/no responders|503/i.test(String(err))) throw err;
  }
  return found;
}

/** The union of the methods the config lists and those the port announces. */
export async function knownMethods(
  nc: NatsConnection,
  service: string,
  routed: { portPrefix: string; methods: readonly string[] },
  waitMs = DEFAULT_KNOWN_METHODS_WAIT_MS,
): Promise<Set<string>> {
  const found = await announcedMethods(nc, service, routed.portPrefix, waitMs);
  for (const method of routed.methods) found.add(method);
  return found;
}
