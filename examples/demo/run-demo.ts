// `npm run demo`: the bridge, TypeScript services on NATS and a Nameko-protocol world on RabbitMQ in
// one process, with calls and events crossing both ways. Reads AMQP_URI and NATS_URL (defaults:
// guest on localhost). Exits 0 when every crossing worked, 1 otherwise.
import "./register-paths";
import { randomBytes } from "node:crypto";
import { jetstreamManager } from "@nats-io/jetstream";
import {
  AmqpConnection,
  AmqpEventConsumer,
  AmqpEventDispatcher,
  AmqpRpcClient,
  AmqpRpcServer,
  type IncomingEvent,
  type IncomingRpcRequest,
} from "cliffracer/amqp";
import {
  decodeRequest,
  encodeErrorReply,
  encodeJson,
  encodeReply,
  eventsStreamName,
  KeyError,
  MethodNotFound,
  ValidationFailed,
} from "cliffracer/compat";
import { createBridge, loadBridgeConfig } from "cliffracer/bridge";
import { ClusterRpcProxy, createLogger, maskSecrets, ServiceRunner } from "cliffracer";
import { GreetingService } from "../greeting/greeting-service";
import { WelcomerService, welcomerHooks, type UserCreated } from "./welcomer-service";

const STEP_TIMEOUT_MS = 15_000;
const USERS: Record<number, UserCreated> = { 1: { id: 1, name: "Grace Hopper" }, 2: { id: 2, name: "Ada Lovelace" } };

const out = (line = ""): void => void process.stdout.write(`${line}\n`);
const show = (v: unknown): string => encodeJson(v);
const row = (route: string, what: string, result: string): void =>
  out(`  ${route.padEnd(24)} ${what.padEnd(44)} => ${result}`);

function within<T>(what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${STEP_TIMEOUT_MS / 1000} s: ${what}`)),
      STEP_TIMEOUT_MS,
    );
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

function waiter<T>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function main(): Promise<void> {
  const prefix = `demo_${randomBytes(3).toString("hex")}`;
  const log = createLogger({ level: process.env.LOG_LEVEL ?? "silent" });
  const config = loadBridgeConfig({
    natsService: ["greeting_service", "welcomer"],
    amqpService: ["user_service"],
    httpPort: 0,
  });
  config.runtime.prefix = prefix;
  config.name = "demo";
  const cleanups: Array<() => Promise<unknown>> = [];

  out("Cliffracer bridge demo");
  out(`  RabbitMQ ${String(maskSecrets(config.amqpUri))}   NATS ${config.runtime.natsUrl}   subject prefix ${prefix}`);
  try {
    // RabbitMQ side: user_service as Nameko would run it (user_service.py), played by amqp/.
    const amqp = new AmqpConnection({ uri: config.amqpUri, connectionName: "demo user_service", logger: log });
    await amqp.start();
    cleanups.push(() => amqp.close());
    const amqpDispatcher = new AmqpEventDispatcher({ connection: amqp });
    let seenStack: string[] = [];
    const userService = new AmqpRpcServer({
      connection: amqp,
      service: "user_service",
      logger: log,
      handler: async (request: IncomingRpcRequest) => {
        const { args } = decodeRequest(request.body);
        if (request.method !== "get_user") return encodeErrorReply(new MethodNotFound(request.method));
        seenStack = request.context.parentStack;
        const user = USERS[Number(args[0])];
        return user ? encodeReply(user) : encodeErrorReply(new KeyError(args[0]));
      },
    });
    await userService.start();
    cleanups.push(() => userService.stop());
    const welcomed = waiter<IncomingEvent>();
    const onWelcomed = new AmqpEventConsumer({
      connection: amqp,
      source: "welcomer",
      eventType: "welcomed",
      handlerType: "service_pool",
      service: "user_service",
      method: "on_welcomed",
      logger: log,
      handler: async (event) => welcomed.resolve(event),
    });
    await onWelcomed.start();
    cleanups.push(() => onWelcomed.stop());

    // NATS side: the greeting example and the welcomer, as `cliffracer run` would run them.
    const handled = waiter<{ user: UserCreated; stack: readonly string[] }>();
    welcomerHooks.onUserCreated = (user, ctx) => handled.resolve({ user, stack: ctx.callIdStack });
    const runner = new ServiceRunner(config.runtime, { log });
    runner.addService(GreetingService);
    runner.addService(WelcomerService);
    await runner.start();
    cleanups.push(() => runner.stop());
    out("  started on NATS        greeting_service (examples/greeting), welcomer (examples/demo)");
    out("  started on RabbitMQ    user_service (Nameko protocol; see examples/demo/user_service.py)");

    const bridge = createBridge(config, { log });
    cleanups.push(() => bridge.stop());
    await bridge.start();
    const readyAt = Date.now() + STEP_TIMEOUT_MS;
    while (!bridge.ready()) {
      if (Date.now() > readyAt) throw new Error(`bridge not ready: ${show(bridge.status())}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const status = bridge.status();
    out(
      `  started the bridge     Nameko queues -> NATS: ${status.rpcToNats.join(", ")}; NATS -> RabbitMQ: ${status.rpcToAmqp.join(", ")}`,
    );
    out(`                         /health, /ready, /metrics on ${bridge.opsUrl}`);

    out();
    out("RPC from a Nameko caller on RabbitMQ (amqp/ AmqpRpcClient, as ClusterRpcProxy):");
    const caller = new AmqpRpcClient({ connection: amqp, timeoutMs: STEP_TIMEOUT_MS, logger: log });
    await caller.start();
    cleanups.push(() => caller.stop());
    const context = { contextData: { user_id: "u-42", language: "en-gb" } };
    row(
      "AMQP -> bridge -> NATS",
      'greeting_service.hello("Ada")',
      show(await within("hello", caller.call("greeting_service", "hello", ["Ada"], {}, context))),
    );
    row(
      "AMQP -> NATS -> AMQP",
      "greeting_service.greet_user(1)",
      show(await within("greet_user", caller.call("greeting_service", "greet_user", [1], {}, context))),
    );
    out(
      `  ${"".padEnd(24)} (the TypeScript service called user_service.get_user on RabbitMQ; it saw the call id stack`,
    );
    out(`  ${"".padEnd(24)}  ${show(seenStack)})`);
    const invalid = await within(
      "welcome",
      caller.call("greeting_service", "welcome", [], { name: "" }).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    if (!(invalid instanceof ValidationFailed)) throw new Error(`expected ValidationFailed, got ${String(invalid)}`);
    row("AMQP -> bridge -> NATS", 'greeting_service.welcome(name="")', `ValidationFailed ${show(invalid.fields)}`);

    out();
    out("RPC from a TypeScript caller on NATS (ClusterRpcProxy):");
    const cluster = await ClusterRpcProxy.connect({ config: config.runtime, timeoutMs: STEP_TIMEOUT_MS });
    cleanups.push(() => cluster.close());
    row(
      "NATS -> bridge -> AMQP",
      "user_service.get_user(2)",
      show(await within("get_user", cluster.service("user_service").get_user(2))),
    );
    const missing = await within(
      "get_user(99)",
      cluster
        .service("user_service")
        .get_user(99)
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    row(
      "NATS -> bridge -> AMQP",
      "user_service.get_user(99)",
      `${(missing as Error).name} ${(missing as Error).message}`,
    );

    out();
    out("Events:");
    const hedy: UserCreated = { id: 3, name: "Hedy Lamarr" };
    await amqpDispatcher.dispatch("user_service", "user_created", hedy, {
      contextData: { user_id: "u-42" },
      callIdStack: ["user_service.create_user.demo"],
    });
    const got = await within("user_created to reach welcomer", handled.promise);
    row("AMQP -> bridge -> NATS", "user_service: user_created", `welcomer (NATS) handled ${show(got.user)}`);
    out(`  ${"".padEnd(24)} (its call id stack: ${show(got.stack)})`);
    const event = await within("welcomed to reach user_service", welcomed.promise);
    row(
      "NATS -> bridge -> AMQP",
      "welcomer: welcomed",
      `user_service.on_welcomed (RabbitMQ) received ${event.body.toString("utf8")}`,
    );

    const metrics = await (await fetch(`${bridge.opsUrl}/metrics`)).text();
    const total = (name: string, direction: string): number =>
      metrics
        .split("\n")
        .filter((l) => l.startsWith(`${name}{`) && l.includes(`direction="${direction}"`))
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
    out();
    out(
      `Bridge metrics: ${total("cliffracer_bridge_rpc_total", "amqp_to_nats")} calls AMQP -> NATS, ${total("cliffracer_bridge_rpc_total", "nats_to_amqp")} calls NATS -> AMQP, ` +
        `${total("cliffracer_bridge_events_total", "amqp_to_nats")} event(s) AMQP -> NATS, ${total("cliffracer_bridge_events_total", "nats_to_amqp")} event(s) NATS -> AMQP`,
    );
    out("Done: calls and events crossed both ways.");
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await removeDemoLeftovers(config.amqpUri, config.runtime.natsUrl, prefix);
  }
}

/** The demo's stream and its queues on RabbitMQ, unless something else still uses them. */
async function removeDemoLeftovers(amqpUri: string, natsUrl: string, prefix: string): Promise<void> {
  const { connect } = await import("@nats-io/transport-node");
  const nc = await connect({ servers: natsUrl }).catch(() => undefined);
  if (nc) {
    const jsm = await jetstreamManager(nc).catch(() => undefined);
    await jsm?.streams.delete(eventsStreamName(prefix)).catch(() => undefined);
    await nc.close();
  }
  const amqp = new AmqpConnection({ uri: amqpUri, connectionName: "demo cleanup", reconnect: { maxRetries: 0 } });
  try {
    await amqp.start();
    for (const queue of [
      "rpc-greeting_service",
      "rpc-welcomer",
      "rpc-user_service",
      "cliffracer-bridge-evt-user_service",
      "evt-welcomer-welcomed--user_service.on_welcomed",
    ]) {
      await amqp.withChannel((ch) => ch.deleteQueue(queue, { ifEmpty: true, ifUnused: true })).catch(() => undefined);
    }
  } catch {
    // Nothing to clean when RabbitMQ is gone.
  } finally {
    await amqp.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
