// The examples of docs/testing.md, run as written there. The only change: `config` is this file's
// own (a private subject prefix and events stream, removed at the end) instead of the guide's
// `configFromObject({ NATS_URL, NATS_PREFIX })`, and loggers are quiet.
import {
  ClusterRpcProxy,
  Context,
  EventDispatcher,
  eventHandler,
  Exception,
  NotImplementedError,
  registerDependency,
  rpc,
  RpcProxy,
  standaloneDispatcher,
  timer,
  type Dispatch,
  type ServiceProxy,
  type WorkerContext,
} from "cliffracer";
import {
  entrypointHook,
  entrypointWaiter,
  getContainer,
  replaceDependencies,
  restrictEntrypoints,
  useContainerFactory,
  useRunnerFactory,
  workerFactory,
} from "cliffracer/testing";
import { testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";

const fx = new EventsFixture();
const config = fx.config;
afterAll(() => fx.cleanup());

// --- Unit testing -------------------------------------------------------------------------------

/** What ConversionService calls on math_service. */
interface MathApi {
  multiply(x: number, y: number): number;
  divide(x: number, y: number): number;
}

class ConversionService {
  name = "conversion_service";

  @RpcProxy("math_service") math!: ServiceProxy<MathApi>;

  @rpc()
  inches_to_cm(inches: number): Promise<number> {
    return this.math.multiply(inches, 2.54);
  }

  @rpc()
  cms_to_inches(cms: number): Promise<number> {
    return this.math.divide(cms, 2.54);
  }
}

describe("unit testing", () => {
  it("ConversionService, with math_service mocked", async () => {
    // A worker of the service, every dependency a jest mock.
    const service = workerFactory(ConversionService);

    // Stand in for math_service.
    service.math.multiply.mockImplementation(async (x, y) => x * y);
    service.math.divide.mockImplementation(async (x, y) => x / y);

    // inches_to_cm's business logic.
    expect(await service.inches_to_cm(300)).toBeCloseTo(762);
    expect(service.math.multiply).toHaveBeenCalledWith(300, 2.54);

    // cms_to_inches's business logic.
    expect(await service.cms_to_inches(762)).toBeCloseTo(300);
    expect(service.math.divide).toHaveBeenCalledWith(762, 2.54);
  });

  it("ConversionService, with an alternative math_service", async () => {
    const math = {
      multiply: async (x: number, y: number) => x * y,
      divide: async (x: number, y: number) => x / y,
    };
    const service = workerFactory(ConversionService, { math });

    expect(await service.inches_to_cm(10)).toBeCloseTo(25.4);
  });
});

// --- Integration testing ------------------------------------------------------------------------

class ServiceX {
  name = "service_x";

  @RpcProxy("service_y") y!: ServiceProxy<ServiceY>;

  @rpc()
  remote_method(value: string): Promise<string> {
    return this.y.append_identifier(`${value}-x`);
  }
}

class ServiceY {
  name = "service_y";

  @rpc()
  append_identifier(value: string): string {
    return `${value}-y`;
  }
}

describe("integration testing", () => {
  const runnerFactory = useRunnerFactory({ config, log: testLogger() });

  it("ServiceX and ServiceY work together", async () => {
    // Run the services the normal way.
    const runner = runnerFactory(ServiceX, ServiceY);
    await runner.start();

    // Fire the "remote_method" entrypoint by hand and check the answer.
    const container = getContainer(runner, ServiceX);
    const remoteMethod = entrypointHook(container, "remote_method");
    expect(await remoteMethod("value")).toBe("value-x-y");
  });
});

// --- Complete example: the ACME shop ------------------------------------------------------------

class NotLoggedInError extends Exception {}
class ItemOutOfStockError extends Exception {}
class ItemDoesNotExistError extends Exception {}

/** The user_id of the call's context data, or NotLoggedInError. */
function userIdOf(worker: WorkerContext): string {
  const userId = worker.data.user_id;
  if (typeof userId !== "string") throw new NotLoggedInError();
  return userId;
}

/** A shopping basket per user_id, kept by the container (a toy: a real one would be stored). */
function ShoppingBasket(): PropertyDecorator {
  return (target, key) =>
    registerDependency(target, () => {
      const baskets = new Map<string, string[]>();
      return {
        attrName: String(key),
        getDependency: (worker: WorkerContext) => {
          const userId = userIdOf(worker);
          if (!baskets.has(userId)) baskets.set(userId, []);
          return baskets.get(userId);
        },
      };
    });
}

interface Item {
  price: number;
  stock: number;
}

/** The warehouse's items (a toy: a Map is not a database). */
function Warehouse(): PropertyDecorator {
  return (target, key) =>
    registerDependency(target, () => {
      const items = new Map<string, Item>([
        ["anvil", { price: 100, stock: 3 }],
        ["dehydrated_boulders", { price: 999, stock: 12 }],
        ["invisible_paint", { price: 10, stock: 30 }],
        ["toothpicks", { price: 1, stock: 0 }],
      ]);
      return { attrName: String(key), getDependency: () => items };
    });
}

interface UserDetails {
  username: string;
  fullname: string;
  address: string;
}

/** The details of the calling user, from the call's context data. */
function AddressBook(): PropertyDecorator {
  const book = new Map<string, UserDetails>([
    [
      "wile_e_coyote",
      { username: "wile_e_coyote", fullname: "Wile E Coyote", address: "12 Long Road, High Cliffs, Utah" },
    ],
  ]);
  return (target, key) =>
    registerDependency(target, () => ({
      attrName: String(key),
      getDependency: (worker: WorkerContext) => () => book.get(userIdOf(worker)),
    }));
}

interface Invoice {
  message: string;
  amount: number;
  customer: string;
  address: string;
}

class AcmeShopService {
  name = "acmeshopservice";

  @ShoppingBasket() user_basket!: string[];
  @RpcProxy("stockservice") stock_rpc!: ServiceProxy<StockService>;
  @RpcProxy("invoiceservice") invoice_rpc!: ServiceProxy<InvoiceService>;
  @RpcProxy("paymentservice") payment_rpc!: ServiceProxy<PaymentService>;
  @EventDispatcher() fire_event!: Dispatch;

  /** Add an item to the basket (a toy: mind the race between checking and adding). */
  @rpc()
  async add_to_basket(item_code: string): Promise<string> {
    const stock_level = await this.stock_rpc.check_stock(item_code);
    if (stock_level > 0) {
      this.user_basket.push(item_code);
      await this.fire_event("item_added_to_basket", item_code);
      return item_code;
    }
    throw new ItemOutOfStockError(item_code);
  }

  /** Take payment for everything in the basket. */
  @rpc()
  async checkout(): Promise<number> {
    let total_price = 0;
    for (const item of this.user_basket) total_price += await this.stock_rpc.check_price(item);

    const invoice = await this.invoice_rpc.prepare_invoice(total_price);
    await this.payment_rpc.take_payment(invoice);

    // Only once the invoice is prepared and the payment taken.
    await this.fire_event("checkout_complete", { invoice, items: [...this.user_basket] });
    return total_price;
  }
}

class StockService {
  name = "stockservice";

  @Warehouse() warehouse!: Map<string, Item>;

  @rpc()
  check_price(item_code: string): number {
    return this.item(item_code).price;
  }

  @rpc()
  check_stock(item_code: string): number {
    return this.item(item_code).stock;
  }

  /** Expensive stock monitoring, every 100 seconds or over RPC: not for an integration test. */
  @rpc()
  @timer({ interval: 100 })
  monitor_stock(): never {
    throw new NotImplementedError();
  }

  /** Ships the items of a completed checkout: not for an integration test either. */
  @eventHandler("acmeshopservice", "checkout_complete")
  dispatch_items(_event_data: unknown): never {
    throw new NotImplementedError();
  }

  private item(item_code: string): Item {
    const item = this.warehouse.get(item_code);
    if (!item) throw new ItemDoesNotExistError(item_code);
    return item;
  }
}

class InvoiceService {
  name = "invoiceservice";

  @AddressBook() get_user_details!: () => UserDetails;

  @rpc()
  prepare_invoice(amount: number): Invoice {
    const { address, fullname, username } = this.get_user_details();
    return {
      message: `Dear ${fullname}. Please pay $${amount} to ACME Corp.`,
      amount,
      customer: username,
      address,
    };
  }
}

class PaymentService {
  name = "paymentservice";

  /** Takes a customer's money: nothing a test should do. */
  @rpc()
  take_payment(_invoice: Invoice): string {
    throw new NotImplementedError();
  }
}

describe("the ACME shop", () => {
  const runnerFactory = useRunnerFactory({ config, log: testLogger() });

  it("checks out: shop, stock and invoices hosted, payments and events replaced", async () => {
    const runner = runnerFactory(AcmeShopService, StockService, InvoiceService);

    // Replace the event dispatcher and the payments proxy of the shop by mocks.
    const shopContainer = getContainer(runner, AcmeShopService);
    const [fire_event, payment_rpc] = replaceDependencies(shopContainer, "fire_event", "payment_rpc");

    // Start only the entrypoints of the stock service this test needs: no timer, no event handler.
    restrictEntrypoints(getContainer(runner, StockService), "check_price", "check_stock");

    await runner.start();

    const cluster = await ClusterRpcProxy.connect({ config, contextData: { user_id: "wile_e_coyote" } });
    try {
      const shop = cluster.service<AcmeShopService>("acmeshopservice");

      // Add some items to the basket.
      expect(await shop.add_to_basket("anvil")).toBe("anvil");
      expect(await shop.add_to_basket("invisible_paint")).toBe("invisible_paint");

      // Try to buy something out of stock.
      await expect(shop.add_to_basket("toothpicks")).rejects.toMatchObject({ excType: "ItemOutOfStockError" });

      // The payments service's answer.
      payment_rpc.take_payment.mockResolvedValue("Payment complete.");

      // Check out.
      expect(await shop.checkout()).toBe(100 + 10);

      // The shop asked the (mocked) payments service for the right amount.
      expect(payment_rpc.take_payment).toHaveBeenCalledTimes(1);
      expect(payment_rpc.take_payment).toHaveBeenCalledWith({
        customer: "wile_e_coyote",
        address: "12 Long Road, High Cliffs, Utah",
        amount: 110,
        message: "Dear Wile E Coyote. Please pay $110 to ACME Corp.",
      });

      // Two items added, one checkout.
      expect(fire_event).toHaveBeenCalledTimes(3);
    } finally {
      await cluster.close();
    }
  });
});

// --- Other helpers -------------------------------------------------------------------------------

class HelloService {
  name = "hello_service";

  @Context() context!: WorkerContext;

  @rpc()
  hello(name: string): string {
    const language = this.context.data.language;
    const greeting = language === "fr" ? "Bonjour" : language === "de" ? "Gutentag" : "Hello";
    return `${greeting}, ${name}!`;
  }
}

class ServiceB {
  name = "service_b";

  @eventHandler("service_a", "event_type")
  handle_event(payload: string): string {
    return `service b received ${payload}`;
  }
}

describe("entrypointHook and entrypointWaiter", () => {
  const containerFactory = useContainerFactory({ config, log: testLogger() });

  it.each([
    ["en", "Hello"],
    ["fr", "Bonjour"],
    ["de", "Gutentag"],
  ])("HelloService greets in %s", async (language, greeting) => {
    const container = containerFactory(HelloService);
    await container.start();

    const hello = entrypointHook(container, "hello", { language });
    expect(await hello("Matt")).toBe(`${greeting}, Matt!`);
  });

  it("ServiceB handles service_a's event", async () => {
    const container = containerFactory(ServiceB);
    await container.start();
    const dispatch = await standaloneDispatcher({ prefix: config.prefix });

    const handled = entrypointWaiter(container, "handle_event");
    await dispatch("service_a", "event_type", "payload");
    const { outcome } = await handled;

    expect(outcome).toEqual({ ok: true, result: "service b received payload" });
    await dispatch.close();
  });
});
