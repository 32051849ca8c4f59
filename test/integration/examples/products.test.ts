// nameko-examples' products tests (test/test_service.py and test/test_dependencies.py), ported to
// the testing kit and run as they are there: the service on the real Redis and NATS. This file's
// Redis is database 11, as the Python conftest's (no other test uses it), emptied after each test;
// NATS subjects and the events stream are this file's own (EventsFixture).
import { kwargs, ServiceContainer, ValidationFailed, type WorkerContext } from "cliffracer";
import { entrypointHook, entrypointWaiter, useContainerFactory } from "cliffracer/testing";
import IORedis from "ioredis";
import { REDIS_URIS_ENTRY, StorageProvider, StorageWrapper } from "../../../examples/products/dependencies";
import { NotFound } from "../../../examples/products/exceptions";
import type { Product } from "../../../examples/products/schemas";
import { ProductsService } from "../../../examples/products/service";
import { testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { REDIS_URL } from "../../helpers/storage";

const REDIS_URI = REDIS_URL.replace(/\/\d*$/, "/11");
const fx = new EventsFixture();
const config = { ...fx.config, raw: { REDIS_URIS: { [REDIS_URIS_ENTRY]: REDIS_URI } } };
const redisClient = new IORedis(REDIS_URI, { connectionName: "products-example-test" });

afterEach(() => redisClient.flushdb());
afterAll(async () => {
  await fx.cleanup();
  await redisClient.quit();
});

function product(): Product {
  return { id: "LZ127", title: "LZ 127", passenger_capacity: 72, maximum_speed: 130, in_stock: 11 };
}

/** Store a product straight into Redis, as the Python fixture does with HMSET. */
async function createProduct(overrides: Partial<Record<keyof Product, string | number>> = {}) {
  const created = { ...product(), ...overrides };
  await redisClient.hset(`products:${created.id}`, created);
  return created;
}

async function products(): Promise<Product[]> {
  return [
    await createProduct({
      id: "LZ127",
      title: "LZ 127 Graf Zeppelin",
      passenger_capacity: 20,
      maximum_speed: 128,
      in_stock: 10,
    }),
    await createProduct({
      id: "LZ129",
      title: "LZ 129 Hindenburg",
      passenger_capacity: 50,
      maximum_speed: 135,
      in_stock: 11,
    }),
    await createProduct({
      id: "LZ130",
      title: "LZ 130 Graf Zeppelin II",
      passenger_capacity: 72,
      maximum_speed: 135,
      in_stock: 12,
    }),
  ] as Product[];
}

/** The fields of products:<id> as Redis holds them: strings. */
const stored = (id: string | number) => redisClient.hgetall(`products:${id}`);

const asStored = (p: Product) => ({
  id: p.id,
  title: p.title,
  passenger_capacity: String(p.passenger_capacity),
  maximum_speed: String(p.maximum_speed),
  in_stock: String(p.in_stock),
});

describe("ProductsService (test_service.py)", () => {
  const containerFactory = useContainerFactory({ config, log: testLogger() });

  async function serviceContainer() {
    const container = containerFactory(ProductsService);
    await container.start();
    return container;
  }

  it("gets a product", async () => {
    const storedProduct = await createProduct();
    const get = entrypointHook(await serviceContainer(), "get");
    expect(await get(String(storedProduct.id))).toEqual(storedProduct);
  });

  it("fails with NotFound on a product that does not exist", async () => {
    const get = entrypointHook(await serviceContainer(), "get");
    const error = await get("111").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFound);
    expect(error).toMatchObject({ message: "Product ID 111 does not exist", excPath: "products.exceptions.NotFound" });
  });

  it("lists products", async () => {
    const expected = await products();
    const list = entrypointHook(await serviceContainer(), "list");
    const listed = await list();
    expect(listed.sort((a, b) => a.id.localeCompare(b.id))).toEqual(expected);
  });

  it("lists no products when there are none", async () => {
    const list = entrypointHook(await serviceContainer(), "list");
    expect(await list()).toEqual([]);
  });

  it("creates a product", async () => {
    const create = entrypointHook(await serviceContainer(), "create");
    await create(product());
    expect(await stored("LZ127")).toEqual(asStored(product()));
  });

  it("creates a product sent as create(product={...}), as a Python caller sends it", async () => {
    const create = entrypointHook(await serviceContainer(), "create");
    await create(kwargs({ product: product() }));
    expect(await stored("LZ127")).toEqual(asStored(product()));
  });

  // The same cases as the Python test; the messages are class-validator's (README.md says how they differ).
  it.each([
    [{ id: 111 }, { id: ["id must be a string"] }],
    [
      { passenger_capacity: "not-an-integer" },
      { passenger_capacity: ["passenger_capacity must be an integer number"] },
    ],
    [{ maximum_speed: "not-an-integer" }, { maximum_speed: ["maximum_speed must be an integer number"] }],
    [{ in_stock: "not-an-integer" }, { in_stock: ["in_stock must be an integer number"] }],
  ])("refuses a product with %j: ValidationFailed %j", async (overrides, expectedErrors) => {
    const create = entrypointHook((await serviceContainer()) as ServiceContainer, "create");
    const error = await create({ ...product(), ...overrides }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationFailed);
    expect((error as ValidationFailed).fields).toEqual(expectedErrors);
    expect(await stored("LZ127")).toEqual({});
  });

  const FIELDS = ["id", "title", "passenger_capacity", "maximum_speed", "in_stock"] as const;
  const typeMessage = (field: string) => (field === "id" || field === "title" ? "a string" : "an integer number");

  it.each(FIELDS)("refuses a product without its required field %s", async (field) => {
    const create = entrypointHook((await serviceContainer()) as ServiceContainer, "create");
    const incomplete: Partial<Product> = product();
    delete incomplete[field];
    const error = await create(incomplete).catch((e: unknown) => e);
    expect((error as ValidationFailed).fields).toEqual({
      [field]: [`${field} should not be null or undefined`, `${field} must be ${typeMessage(field)}`],
    });
  });

  it.each(FIELDS)("refuses a product whose field %s is null", async (field) => {
    const create = entrypointHook((await serviceContainer()) as ServiceContainer, "create");
    const error = await create({ ...product(), [field]: null }).catch((e: unknown) => e);
    expect((error as ValidationFailed).fields).toEqual({
      [field]: [`${field} should not be null or undefined`, `${field} must be ${typeMessage(field)}`],
    });
  });

  it("takes the stock of an order_created event's products down", async () => {
    await products();
    const container = await serviceContainer();
    const dispatch = await fx.dispatcher();
    const payload = {
      order: {
        order_details: [
          { product_id: "LZ129", quantity: 2 },
          { product_id: "LZ127", quantity: 4 },
        ],
      },
    };

    const handled = entrypointWaiter(container, "handle_order_created", { timeoutMs: 10_000 });
    await dispatch("orders", "order_created", payload);
    expect((await handled).outcome.ok).toBe(true);

    const [one, two, three] = await Promise.all(["LZ127", "LZ129", "LZ130"].map(stored));
    expect([one?.in_stock, two?.in_stock, three?.in_stock]).toEqual(["6", "9", "12"]);
  });
});

describe("the Storage dependency (test_dependencies.py)", () => {
  const worker: WorkerContext = {
    serviceName: "products",
    methodName: "test",
    callId: "products.test.0",
    callIdStack: ["products.test.0"],
    data: {},
    log: testLogger(),
  };
  let provider: StorageProvider;
  let storage: StorageWrapper;

  beforeEach(async () => {
    // The provider alone, set up on a container that is never started (the Python test's Mock(config=config)).
    provider = new StorageProvider("storage", REDIS_URIS_ENTRY);
    await provider.setup(new ServiceContainer(ProductsService, config, { log: testLogger() }));
    storage = provider.getDependency(worker);
  });
  afterEach(() => provider.stop());

  it("fails to get a product that does not exist with NotFound", async () => {
    await expect(storage.get(2)).rejects.toThrow(new StorageWrapper.NotFound("Product ID 2 does not exist"));
  });

  it("gets a product", async () => {
    await products();
    expect(await storage.get("LZ129")).toEqual({
      id: "LZ129",
      title: "LZ 129 Hindenburg",
      maximum_speed: 135,
      passenger_capacity: 50,
      in_stock: 11,
    });
  });

  it("lists products", async () => {
    const expected = await products();
    const listed = await storage.list();
    expect(listed.sort((a, b) => a.id.localeCompare(b.id))).toEqual(expected);
  });

  it("creates a product", async () => {
    await storage.create(product());
    expect(await stored("LZ127")).toEqual(asStored(product()));
  });

  it("decrements a product's stock and resolves with what is left", async () => {
    await createProduct({ id: 1, title: "LZ 127", in_stock: 10 });
    await createProduct({ id: 2, title: "LZ 129", in_stock: 11 });
    await createProduct({ id: 3, title: "LZ 130", in_stock: 12 });

    expect(await storage.decrementStock(2, 4)).toBe(7);

    const [one, two, three] = await Promise.all([1, 2, 3].map(stored));
    expect([one?.in_stock, two?.in_stock, three?.in_stock]).toEqual(["10", "7", "12"]);
  });
});
