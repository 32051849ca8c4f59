// workerFactory and createMock: service instances for unit tests, without a broker.
import {
  Context,
  EventDispatcher,
  rpc,
  RpcProxy,
  type Dispatch,
  type ServiceProxy,
  type WorkerContext,
} from "cliffracer";
import { createMock, ExtensionNotFound, workerFactory } from "cliffracer/testing";
import { GreetingService } from "../../../examples/greeting/greeting-service";

class OrderService {
  name = "orders";

  @RpcProxy("products") products!: ServiceProxy;
  @EventDispatcher() dispatch!: Dispatch;
  @Context() ctx!: WorkerContext;

  @rpc()
  async order(productId: string, quantity: number): Promise<number> {
    const product = (await this.products.get(productId)) as { price: number };
    await this.dispatch("order_created", { productId, quantity });
    return product.price * quantity;
  }
}

describe("workerFactory", () => {
  it("injects a jest mock for each dependency not given", async () => {
    const service = workerFactory(OrderService);
    service.products.get.mockResolvedValue({ price: 3 });

    expect(await service.order("anvil", 2)).toBe(6);
    expect(service.products.get).toHaveBeenCalledWith("anvil");
    expect(jest.mocked(service.dispatch)).toHaveBeenCalledWith("order_created", { productId: "anvil", quantity: 2 });
  });

  it("injects the given value under its property name and mocks the others", async () => {
    const products = { get: async (id: string) => ({ id, price: 5 }) };
    const service = workerFactory(OrderService, { products });

    expect(service.products).toBe(products);
    expect(await service.order("paint", 3)).toBe(15);
    expect(jest.mocked(service.dispatch)).toHaveBeenCalledTimes(1);
  });

  it("keeps the class's methods and plain fields", () => {
    const service = workerFactory(GreetingService);
    expect(service.name).toBe("greeting_service");
    expect(service.hello("Ada")).toBe("Hello, Ada!");
  });

  it("throws ExtensionNotFound naming an unknown dependency and the known ones", () => {
    const unknownName = { product: {} } as unknown as Record<never, never>;
    const thrown = (() => {
      try {
        workerFactory(OrderService, unknownName);
      } catch (err) {
        return err;
      }
    })();
    expect(thrown).toBeInstanceOf(ExtensionNotFound);
    expect((thrown as ExtensionNotFound).missing).toEqual(["product"]);
    expect((thrown as ExtensionNotFound).known).toEqual(["products", "dispatch", "ctx"]);
    expect((thrown as Error).message).toBe(
      'OrderService has no dependency "product" (its dependencies: products, dispatch, ctx)',
    );
  });

  it("gives each instance its own mocks", () => {
    const first = workerFactory(OrderService);
    const second = workerFactory(OrderService);
    void first.products.get("x");
    expect(first.products.get).toHaveBeenCalledTimes(1);
    expect(second.products.get).not.toHaveBeenCalled();
  });
});

describe("createMock", () => {
  it("makes one mock per property, on first access, and keeps it", () => {
    const users = createMock<ServiceProxy>("users");
    expect(users.get_user).toBe(users.get_user);
    expect(users.get_user).not.toBe(users.get_users);
    expect(jest.isMockFunction(users.get_user)).toBe(true);
  });

  it("nests: a property of a property is a mock too, named by its path", () => {
    const db = createMock("db");
    db.orders.insert.mockReturnValue(7);
    expect(db.orders.insert({ id: 1 })).toBe(7);
    expect(db.orders.insert).toHaveBeenCalledWith({ id: 1 });
    expect(db.orders.insert.getMockName()).toBe("db.orders.insert");
  });

  it("is itself callable, as a dispatcher is", async () => {
    const dispatch = createMock<Dispatch>("dispatch");
    dispatch.mockResolvedValue(undefined);
    await dispatch("created", { id: 1 });
    expect(dispatch).toHaveBeenCalledWith("created", { id: 1 });
  });

  it("is not a thenable, so awaiting it does not hang", async () => {
    const users = createMock<ServiceProxy>("users");
    expect(await (users as unknown as Promise<unknown>)).toBe(users);
  });

  it("can be compared and used as a call argument by jest", () => {
    const users = createMock("users");
    const seen = createMock("seen");
    seen(users);
    expect(seen).toHaveBeenCalledWith(users);
    expect({ users }).toEqual({ users });
  });
});

describe("without jest-mock", () => {
  it("throws JestMockMissing, saying what to install", async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock("jest-mock", () => {
        throw new Error("Cannot find module 'jest-mock'");
      });
      const kit = await import("cliffracer/testing");
      expect(() => kit.workerFactory(OrderService)).toThrow(kit.JestMockMissing);
      expect(() => kit.createMock()).toThrow("npm install --save-dev jest-mock");
    });
  });
});
