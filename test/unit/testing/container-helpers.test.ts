// replaceDependencies, restrictEntrypoints and entrypointWaiter on a container that is not started: no
// broker needed, a worker is run with entrypointHook straight through the container.
import {
  defaultConfig,
  EventDispatcher,
  IncorrectSignature,
  kwargs,
  rpc,
  RpcProxy,
  RuntimeError,
  ServiceContainer,
  timer,
  type Dispatch,
  type ServiceProxy,
} from "cliffracer";
import {
  entrypointHook,
  entrypointWaiter,
  EntrypointWaiterTimeout,
  ExtensionNotFound,
  replaceDependencies,
  restrictEntrypoints,
} from "cliffracer/testing";
import { createLogger } from "../../../src/logging";

class ShopService {
  name = "shop";

  @RpcProxy("stock") stock!: ServiceProxy;
  @RpcProxy("payments") payments!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;

  @rpc()
  async checkout(item: string): Promise<unknown> {
    const price = await this.stock.check_price(item);
    await this.dispatch("checkout_complete", { item });
    return this.payments.take_payment(price);
  }

  @rpc()
  @timer({ interval: 3600 })
  restock(): string {
    return "restocked";
  }
}

const log = createLogger({ level: "silent" });
const container = (): ServiceContainer<ShopService> => new ServiceContainer(ShopService, defaultConfig(), { log });

/** What `fn` threw. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("did not throw");
}

describe("replaceDependencies", () => {
  it("returns one mock per name, in order, injected into every worker", async () => {
    const c = container();
    const [payments, dispatch] = replaceDependencies(c, "payments", "dispatch");
    replaceDependencies(c, { stock: { check_price: async () => 110 } });
    payments.take_payment.mockResolvedValue("paid");

    const checkout = entrypointHook(c, "checkout");
    expect(await checkout("anvil")).toBe("paid");
    expect(await checkout("paint")).toBe("paid");
    expect(payments.take_payment).toHaveBeenCalledWith(110);
    expect(payments.take_payment).toHaveBeenCalledTimes(2);
    expect(dispatch).toHaveBeenNthCalledWith(2, "checkout_complete", { item: "paint" });
  });

  it("leaves the other dependencies and the service class as they were", () => {
    const c = container();
    const before = c.dependencies;
    replaceDependencies(c, "payments");
    expect(c.dependencies.map((d) => d.attrName)).toEqual(["stock", "payments", "dispatch"]);
    expect(c.dependencies[0]).toBe(before[0]);
    expect(c.dependencies[1]).not.toBe(before[1]);
    // A new container of the class builds the class's own providers again.
    expect(container().dependencies[1]!.constructor).toBe(before[1]!.constructor);
    expect(c.dependencies[1]!.constructor).not.toBe(before[1]!.constructor);
  });

  it("throws ExtensionNotFound naming the unknown dependency and the known ones", () => {
    const c = container();
    const err = thrown(() => replaceDependencies(c as ServiceContainer, "payment", "stock"));
    expect(err).toBeInstanceOf(ExtensionNotFound);
    expect((err as Error).message).toBe(
      'shop has no dependency "payment" (its dependencies: stock, payments, dispatch)',
    );
    expect(thrown(() => replaceDependencies(c as ServiceContainer, { stocks: {} }))).toBeInstanceOf(ExtensionNotFound);
  });

  it("throws once the container has left the created state", async () => {
    const c = container();
    await c.stop();
    expect(thrown(() => replaceDependencies(c, "payments"))).toBeInstanceOf(RuntimeError);
  });
});

describe("restrictEntrypoints", () => {
  it("keeps only the entrypoints of the named methods, all of them", () => {
    const c = container();
    restrictEntrypoints(c, "restock");
    expect(c.entrypoints.map((e) => e.methodName)).toEqual(["restock", "restock"]);
  });

  it("throws ExtensionNotFound naming the unknown entrypoint and the known ones", () => {
    const c = container();
    const err = thrown(() => restrictEntrypoints(c as ServiceContainer, "checkot"));
    expect(err).toBeInstanceOf(ExtensionNotFound);
    expect((err as Error).message).toBe('shop has no entrypoint "checkot" (its entrypoints: checkout, restock)');
    expect(c.entrypoints).toHaveLength(3);
  });

  it("throws once the container has left the created state", async () => {
    const c = container();
    await c.stop();
    expect(thrown(() => restrictEntrypoints(c, "checkout"))).toBeInstanceOf(RuntimeError);
  });
});

describe("entrypointHook", () => {
  it("binds keywords as a remote call does, and rejects ones that do not bind with IncorrectSignature", async () => {
    const c = container();
    const [stock, payments] = replaceDependencies(c, "stock", "payments", "dispatch");
    stock.check_price.mockResolvedValue(3);
    payments.take_payment.mockResolvedValue("paid");
    const checkout = entrypointHook(c, "checkout");
    expect(await checkout(kwargs({ item: "anvil" }))).toBe("paid");
    expect(stock.check_price).toHaveBeenCalledWith("anvil");
    await expect(checkout(kwargs({ item: "anvil", quantity: 2 }))).rejects.toBeInstanceOf(IncorrectSignature);
  });

  it("throws ExtensionNotFound for a method without an entrypoint", () => {
    const err = thrown(() => entrypointHook(container() as ServiceContainer, "missing"));
    expect(err).toBeInstanceOf(ExtensionNotFound);
    expect((err as ExtensionNotFound).known).toEqual(["checkout", "restock"]);
  });
});

describe("entrypointWaiter", () => {
  it("resolves with the outcome of the next worker of the method", async () => {
    const c = container();
    replaceDependencies(c, "payments", "dispatch", "stock");
    const waited = entrypointWaiter(c, "restock", { timeoutMs: 10_000 });
    await entrypointHook(c, "restock")();
    expect((await waited).outcome).toEqual({ ok: true, result: "restocked" });
  });

  it("keeps waiting until `until` accepts a finished worker", async () => {
    const c = container();
    const [payments] = replaceDependencies(c, "payments", "dispatch", "stock");
    payments.take_payment.mockResolvedValue("paid");
    const waited = entrypointWaiter(c, "checkout", { timeoutMs: 10_000, until: (e) => e.args[0] === "paint" });
    await entrypointHook(c, "checkout")("anvil");
    await entrypointHook(c, "checkout")("paint");
    expect((await waited).args).toEqual(["paint"]);
  });

  it("rejects with EntrypointWaiterTimeout when no worker finished in time", async () => {
    const waited = entrypointWaiter(container(), "checkout", { timeoutMs: 20 });
    await expect(waited).rejects.toBeInstanceOf(EntrypointWaiterTimeout);
    await expect(waited).rejects.toThrow("entrypoint shop.checkout did not fire within 20 ms");
  });
});
