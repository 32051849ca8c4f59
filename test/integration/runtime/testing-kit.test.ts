// cliffracer/testing over the real NATS, used the way a service author would.
import {
  ClusterRpcProxy,
  Context,
  kwargs,
  MethodNotFound,
  rpc,
  RpcProxy,
  RuntimeError,
  timer,
  UnknownService,
  ValidationFailed,
  type ServiceContainer,
  type ServiceProxy,
  type WorkerContext,
} from "cliffracer";
import {
  ContainerNotFound,
  entrypointHook,
  entrypointWaiter,
  getContainer,
  replaceDependencies,
  restrictEntrypoints,
  useContainerFactory,
  useRunnerFactory,
} from "cliffracer/testing";
import { GreetingService } from "../../../examples/greeting/greeting-service";
import { NatsFixture, testLogger } from "../../helpers/brokers";

class ShopService {
  name = "shop";

  @RpcProxy("payments") payments!: ServiceProxy;
  @Context() ctx!: WorkerContext;

  @rpc()
  async checkout(amount: number): Promise<unknown> {
    return this.payments.take_payment({ amount, user: this.ctx.data.user_id });
  }

  @rpc()
  whoami(): unknown {
    return this.ctx.data.user_id;
  }

  @timer({ interval: 3600 })
  @rpc()
  restock(): string {
    return "restocked";
  }
}

const fx = new NatsFixture();
afterAll(() => fx.cleanup());

describe("entrypointHook and entrypointWaiter", () => {
  const containerFactory = useContainerFactory({ config: fx.config, log: testLogger() });

  it("entrypointHook fires an entrypoint of a running container, with kwargs and DTO validation", async () => {
    const container = containerFactory(GreetingService);
    await container.start();
    expect(await entrypointHook(container, "hello")("Ada", kwargs({ punctuation: "?" }))).toBe("Hello, Ada?");
    expect(await entrypointHook(container, "welcome")(kwargs({ name: "Ada", language: "fr" }))).toBe("Bienvenue, Ada");
    const err = await entrypointHook(container, "welcome")(kwargs({ name: "" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationFailed);
    expect(Object.keys((err as ValidationFailed).fields)).toEqual(["name"]);
  });

  it("entrypointHook gives the worker the context data it is given", async () => {
    const container = containerFactory(ShopService);
    await container.start();
    expect(await entrypointHook(container, "whoami", { user_id: "wile_e_coyote" })()).toBe("wile_e_coyote");
  });

  it("entrypointWaiter resolves when a worker of the entrypoint finished", async () => {
    const container = containerFactory(GreetingService);
    await container.start();
    const done = entrypointWaiter(container, "hello", { timeoutMs: 10_000 });
    const client = await fx.client();
    await client.call("greeting_service", "hello", ["Lin"]);
    const event = await done;
    expect(event.outcome).toEqual({ ok: true, result: "Hello, Lin!" });
  });
});

describe("replaceDependencies and restrictEntrypoints", () => {
  const containerFactory = useContainerFactory({ config: fx.config, log: testLogger() });
  let cluster: ClusterRpcProxy;
  beforeAll(async () => {
    cluster = await fx.cluster({ contextData: { user_id: "wile_e_coyote" } });
  });

  it("the mocks replaceDependencies returns are what remote calls reach", async () => {
    const container = containerFactory(ShopService);
    const [payments] = replaceDependencies(container, "payments");
    payments.take_payment.mockResolvedValue("Payment complete.");
    await container.start();

    expect(await cluster.service("shop").checkout(110)).toBe("Payment complete.");
    expect(payments.take_payment).toHaveBeenCalledWith({ amount: 110, user: "wile_e_coyote" });
  });

  it("replaceDependencies with values injects them", async () => {
    const container = containerFactory(ShopService);
    const taken: unknown[] = [];
    replaceDependencies(container, {
      payments: { take_payment: async (invoice: unknown) => taken.push(invoice) },
    });
    await container.start();

    expect(await cluster.service("shop").checkout(5)).toBe(1);
    expect(taken).toEqual([{ amount: 5, user: "wile_e_coyote" }]);
  });

  it("restrictEntrypoints leaves the other methods unreachable", async () => {
    const container = containerFactory(ShopService);
    restrictEntrypoints(container, "restock");
    await container.start();

    expect(container.entrypoints.map((e) => e.methodName)).toEqual(["restock", "restock"]);
    expect(await cluster.service("shop").restock()).toBe("restocked");
    await expect(cluster.service("shop").checkout(1)).rejects.toBeInstanceOf(MethodNotFound);
  });

  it("both throw once the container has started", async () => {
    const container = containerFactory(ShopService);
    await container.start();
    expect(() => replaceDependencies(container, "payments")).toThrow(RuntimeError);
    expect(() => restrictEntrypoints(container, "restock")).toThrow(RuntimeError);
  });
});

describe("useContainerFactory and useRunnerFactory", () => {
  const containerFactory = useContainerFactory({ config: fx.config, log: testLogger() });
  const runnerFactory = useRunnerFactory({ config: fx.config, log: testLogger() });
  const made: { container?: ServiceContainer; runner?: ReturnType<typeof runnerFactory> } = {};

  it("start containers and runners on the real NATS", async () => {
    made.container = containerFactory(GreetingService);
    await made.container.start();
    made.runner = runnerFactory(ShopService);
    await made.runner.start();
    const client = await fx.client();
    expect(await client.call("greeting_service", "hello", ["Ada"])).toBe("Hello, Ada!");
    expect(await client.call("shop", "restock", [])).toBe("restocked");
  });

  it("kill what they made after each test", async () => {
    expect(made.container?.running).toBe(false);
    expect(made.runner?.containers.every((c) => !c.running)).toBe(true);
    const client = await fx.client();
    await expect(client.call("greeting_service", "hello", ["Ada"])).rejects.toBeInstanceOf(UnknownService);
  });

  it("runnerFactory takes a config first, as Nameko's fixture does; getContainer finds a service's container", async () => {
    const runner = runnerFactory(fx.config, GreetingService, ShopService);
    const shop = getContainer(runner, ShopService);
    const [payments] = replaceDependencies(shop, "payments");
    payments.take_payment.mockResolvedValue("ok");
    await runner.start();

    expect(shop.serviceName).toBe("shop");
    expect(await entrypointHook(shop, "checkout")(3)).toBe("ok");
    expect(() => getContainer(runner, class Other {})).toThrow(ContainerNotFound);
  });
});
