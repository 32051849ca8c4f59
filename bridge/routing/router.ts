/**
 * The onward leg of a service cut over by weight (docs/routing.md, Choosing a side exactly once):
 * each call goes to the port or to the Nameko original, chosen from the route table in force by a
 * hash of the request's identity, so a redelivered request goes to the same side. A call that fails
 * or times out on its side gets that side's error: it is never tried on the other side, where it
 * could run a second time. The at-most-once record is the intake's business (it is claimed before
 * the intake calls forward, whichever side is chosen).
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import { describeError } from "../../compat";
import { BridgeUnavailable } from "../errors";
import type { Onward, OnwardFailure } from "../onward";
import { errorReply, isErrorReply } from "../translate";
import type { RouteMetrics } from "./route-metrics";
import { chooseSide, type RouteSide, type ServiceRoutes } from "./route-table";

/** Where the route table in force is read, once per call (the route store, or a fixed table). */
export interface RouteSource {
  routesOf(service: string): ServiceRoutes;
}

/** Options of {@link Router}. */
export interface RouterOptions {
  routes: RouteSource;
  /** The port: requests to `<portPrefix>.rpc.<service>.<method>`. */
  port: Onward;
  /** The original: requests to `nameko-rpc` in its own vhost. */
  original: Onward;
  metrics: RouteMetrics;
}

/** Sends each call of a routed service to one side. */
export class Router implements Onward {
  constructor(private readonly options: RouterOptions) {}

  /** The side a call with this identity goes to now (read from the table in force). */
  private sideOf(service: string, method: string, identity: string): RouteSide {
    return chooseSide(this.options.routes.routesOf(service), method, identity);
  }

  forward(
    service: string,
    method: string,
    body: Uint8Array,
    headers: MsgHdrs | undefined,
    identity: string,
  ): Promise<Uint8Array | OnwardFailure> {
    let side: RouteSide;
    try {
      side = this.sideOf(service, method, identity);
    } catch (err) {
      // No table readable (the route store is not open): nothing was sent anywhere.
      const error = new BridgeUnavailable(`no route table for ${service}: ${describeError(err)}`);
      return Promise.resolve({ kind: "no_routes", error, body: errorReply(error), requeue: false, mayHaveRun: false });
    }
    const startedAt = performance.now();
    return this.options[side].forward(service, method, body, headers, identity).then((outcome) => {
      const type = outcome instanceof Uint8Array ? (isErrorReply(outcome) ? "remote" : undefined) : outcome.kind;
      this.options.metrics.record(service, method, side, (performance.now() - startedAt) / 1000, type);
      return outcome;
    });
  }
}
