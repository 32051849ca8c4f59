// The two nameko-examples ports together, nothing replaced: an order created on the orders service
// (PostgreSQL) is announced with order_created, and the products service (Redis) takes the ordered
// quantities off its stock. Own NATS prefix and events stream, own PostgreSQL schema, Redis
// database 12 (no other test uses it), all removed at the end.
import { readFileSync } from "node:fs";
import path from "node:path";
import { ClusterRpcProxy } from "cliffracer";
import { entrypointWaiter, getContainer, useRunnerFactory } from "cliffracer/testing";
import IORedis from "ioredis";
import { OrdersService } from "../../../examples/orders/service";
import { REDIS_URIS_ENTRY } from "../../../examples/products/dependencies";
import { ProductsService } from "../../../examples/products/service";
import { testLogger } from "../../helpers/brokers";
import { EventsFixture } from "../../helpers/jetstream";
import { PG_URL, PgSchema, REDIS_URL } from "../../helpers/storage";

const REDIS_URI = REDIS_URL.replace(/\/\d*$/, "/12");
const fx = new EventsFixture();
const redisClient = new IORedis(REDIS_URI, { connectionName: "orders-and-products-example-test" });
let schema: PgSchema;

beforeAll(async () => {
  schema = await PgSchema.create();
  await schema.admin.query(`SET search_path TO ${schema.name}`);
  await schema.admin.query(
    readFileSync(path.join(__dirname, "../../../examples/orders/migrations/001_initial_schema.sql"), "utf8"),
  );
});
afterAll(async () => {
  await fx.cleanup();
  await schema.cleanup();
  await redisClient.flushdb();
  await redisClient.quit();
});

describe("the orders and products examples", () => {
  const runnerFactory = useRunnerFactory({ log: testLogger() });

  it("an order created on orders takes its quantities off the products' stock", async () => {
    await redisClient.hset("products:LZ127", { id: "LZ127", title: "LZ 127", in_stock: 10 });
    await redisClient.hset("products:LZ129", { id: "LZ129", title: "LZ 129", in_stock: 11 });
    const config = {
      ...fx.config,
      raw: {
        DB_URIS: { "orders:Base": PG_URL },
        DB_ENGINE_OPTIONS: { options: `-c search_path=${schema.name}` },
        REDIS_URIS: { [REDIS_URIS_ENTRY]: REDIS_URI },
      },
    };
    const runner = runnerFactory(config, OrdersService, ProductsService);
    await runner.start();
    const handled = entrypointWaiter(getContainer(runner, ProductsService), "handle_order_created", {
      timeoutMs: 10_000,
    });

    const cluster = await ClusterRpcProxy.connect({ config });
    try {
      const order = await cluster.service<OrdersService>("orders").create_order([
        { product_id: "LZ127", price: "99.99", quantity: 4 },
        { product_id: "LZ129", price: "5.00", quantity: 2 },
      ]);
      expect(order.order_details.map((d) => d.price)).toEqual(["99.99", "5.00"]);
    } finally {
      await cluster.close();
    }

    expect((await handled).outcome.ok).toBe(true);
    expect(await redisClient.hget("products:LZ127", "in_stock")).toBe("6");
    expect(await redisClient.hget("products:LZ129", "in_stock")).toBe("9");
  });
});
