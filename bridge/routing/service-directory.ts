/**
 * Which side each service lives on: named by flags or config (static, never removed), or found by
 * discovery (updated while running). From that follow the bridge's two RPC routes
 * (docs/bridge-contract.md, Routing):
 *
 * - `rpcToNats`: every service with NATS instances. The bridge consumes its Nameko queue
 *   `rpc-<name>`, so AMQP callers reach it; when Nameko instances of it still run too, they and the
 *   bridge compete on that one queue, and each request is consumed once.
 * - `rpcToAmqp`: services on RabbitMQ only. The bridge serves `rpc.<name>.*` for NATS callers. A
 *   service that also has NATS instances is left out: NATS callers reach those directly, and a
 *   bridge in the queue group would carry some of the calls to RabbitMQ, where the bridge's own
 *   consumer could carry them back.
 *
 * A service cut over by weight (`BRIDGE.ROUTING`) is in neither: the bridge serves it through its
 * Router (docs/routing.md, The shape: the bridge in front of both), and a second consumer of `rpc-<name>` or a second
 * subscriber of `rpc.<name>.*` would take a share of its calls outside the route table.
 */
import { EventEmitter } from "node:events";

/** The broker a service runs on. */
export type Side = "nats" | "amqp";

/** The routes that follow from the directory at one moment. */
export interface Routes {
  rpcToNats: ReadonlySet<string>;
  rpcToAmqp: ReadonlySet<string>;
}

/**
 * The bridge's view of where services live. Emits `change` (Routes) whenever a discovered service
 * appears or disappears on either side.
 */
export class ServiceDirectory extends EventEmitter {
  private readonly fixed: Record<Side, ReadonlySet<string>>;
  private readonly discovered: Record<Side, Set<string>> = { nats: new Set(), amqp: new Set() };
  private readonly routed: ReadonlySet<string>;

  /** `routed`: the services cut over by weight, left out of both routes. */
  constructor(
    natsServices: readonly string[] = [],
    amqpServices: readonly string[] = [],
    routed: readonly string[] = [],
  ) {
    super();
    this.fixed = { nats: new Set(natsServices), amqp: new Set(amqpServices) };
    this.routed = new Set(routed);
  }

  /** Services with instances on `side` (configured or discovered). */
  servicesOn(side: Side): Set<string> {
    return new Set([...this.fixed[side], ...this.discovered[side]]);
  }

  /** Services discovery found on `side` (without the configured ones). */
  discoveredOn(side: Side): ReadonlySet<string> {
    return this.discovered[side];
  }

  /** Where `name` runs: one side, both, or unknown. */
  sideOf(name: string): Side | "both" | undefined {
    const nats = this.fixed.nats.has(name) || this.discovered.nats.has(name);
    const amqp = this.fixed.amqp.has(name) || this.discovered.amqp.has(name);
    return nats && amqp ? "both" : nats ? "nats" : amqp ? "amqp" : undefined;
  }

  /** The RPC routes now (see the module comment). */
  routes(): Routes {
    const nats = this.servicesOn("nats");
    const amqp = this.servicesOn("amqp");
    for (const name of nats) amqp.delete(name);
    for (const name of this.routed) {
      nats.delete(name);
      amqp.delete(name);
    }
    return { rpcToNats: nats, rpcToAmqp: amqp };
  }

  /** Replaces the discovered services of `side`; emits `change` when that changes anything. */
  setDiscovered(side: Side, names: Iterable<string>): boolean {
    const next = new Set(names);
    const current = this.discovered[side];
    if (next.size === current.size && [...next].every((n) => current.has(n))) return false;
    this.discovered[side] = next;
    this.emit("change", this.routes());
    return true;
  }
}
