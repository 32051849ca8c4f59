/**
 * Scale of one process: 50 services against 1 in one `cliffracer run`-like process (RPC), and
 * 1,000 event handler bindings against 1 (events). Each large case's floor is its one-service
 * case, so every ratio pairs figures of the same round; the service process starts alone, so its
 * "ready ms" (Processes table) is its start-up time to ready, not shared with the other processes'.
 */
import { measureEvents, measureRpc, type BenchCase, type CaseContext } from "../lib/case";
import { RUNTIME_EVENTS_NEEDS } from "./events-runtime";
import { RUNTIME_SERVICE_NEEDS } from "./rpc-runtime-client";

/** Services in the large RPC case. */
export const SCALE_SERVICES = 50;
/** Services and handlers per service in the large events case: 1,000 bindings. */
export const SCALE_HANDLER_SERVICES = 50;
export const SCALE_HANDLERS_PER_SERVICE = 20;

function rpcScale(count: number) {
  return async (ctx: CaseContext) => {
    const name = `bench_scale_${ctx.token}`;
    await ctx.spawn("service", "runtime-service", { name, count });
    const caller = await ctx.spawn("caller", "runtime-caller", { service: name, count });
    return measureRpc(ctx, caller);
  };
}

function eventsScale(services: number, handlers: number) {
  return async (ctx: CaseContext) => {
    const prefix = `bench_${ctx.token}`;
    const source = `bench_source_${ctx.token}`;
    const consumer = await ctx.spawn("handler service", "runtime-event-handler", {
      prefix,
      source,
      name: `bench_handler_${ctx.token}`,
      services,
      handlers,
    });
    const publisher = await ctx.spawn("dispatcher service", "runtime-event-dispatcher", {
      prefix,
      source,
      types: services * handlers,
    });
    return measureEvents(ctx, publisher, consumer);
  };
}

export const scaleOneService: BenchCase = {
  id: "rpc.scale-1-service",
  title: "(S1) client -> 1 service in its process",
  kind: "rpc",
  limits: "As (2): the baseline of (S50), measured the same way in the same round.",
  needs: [...RUNTIME_SERVICE_NEEDS, "src/index:ClusterRpcProxy"],
  run: rpcScale(1),
};

export const scaleFiftyServices: BenchCase = {
  id: "rpc.scale-50-services",
  title: `(S50) client -> ${SCALE_SERVICES} services in one process, calls spread`,
  kind: "rpc",
  floor: "rpc.scale-1-service",
  limits:
    "One NATS connection and one subscription per service: nats-server matches each request among 50 subscriptions " +
    "instead of one, and each service has its own max_workers 10, so the in-flight calls meet no worker limit sooner.",
  needs: scaleOneService.needs,
  run: rpcScale(SCALE_SERVICES),
};

export const scaleOneHandler: BenchCase = {
  id: "events.scale-1-handler",
  title: "(E1) dispatch -> 1 handler binding in its process",
  kind: "events",
  limits: "As the runtime events case: the baseline of (E1000), measured the same way in the same round.",
  needs: RUNTIME_EVENTS_NEEDS,
  run: eventsScale(1, 1),
};

export const scaleThousandHandlers: BenchCase = {
  id: "events.scale-1000-handlers",
  title: `(E1000) dispatch -> ${SCALE_HANDLER_SERVICES * SCALE_HANDLERS_PER_SERVICE} handler bindings (${SCALE_HANDLER_SERVICES} services x ${SCALE_HANDLERS_PER_SERVICE}), events spread`,
  kind: "events",
  floor: "events.scale-1-handler",
  limits:
    "1,000 JetStream consumers on one stream, each with its own pull request alive (5 s expiry, heartbeat every " +
    "2.5 s) and its own acks: nats-server matches every stored event against 1,000 filters and serves 1,000 pulls.",
  needs: RUNTIME_EVENTS_NEEDS,
  run: eventsScale(SCALE_HANDLER_SERVICES, SCALE_HANDLERS_PER_SERVICE),
};
