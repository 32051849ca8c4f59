// nameko-examples' orders tests (test/interface/test_service.py and test/unit/test_models.py), ported
// to the testing kit: the service on the real PostgreSQL and NATS, its event dispatcher replaced by
// a mock, called through a ClusterRpcProxy as the Python tests call it through a ServiceRpcProxy.
// The tables live in a schema of this file's own (the migration applied to it, dropped at the end),
// emptied before each test with ids restarting at 1, as the Python db_session fixture gives each
// test a fresh database.
import { readFileSync } from "node:fs";
import path from "node:path";
import { ClusterRpcProxy, type RuntimeConfig } from "cliffracer";
import { SqlSession } from "cliffracer/sql";
import { replaceDependencies, useContainerFactory } from "cliffracer/testing";
import { Pool } from "pg";
import { NotFound } from "../../../examples/orders/exceptions";
import { findOrder, insertOrder } from "../../../examples/orders/models";
import { OrdersService } from "../../../examples/orders/service";
import { testConfig, testLogger, uniquePrefix } from "../../helpers/brokers";
import { PG_URL, PgSchema } from "../../helpers/storage";

const MIGRATION = path.join(__dirname, "../../../examples/orders/migrations/001_initial_schema.sql");

let schema: PgSchema;
let config: RuntimeConfig;

beforeAll(async () => {
  schema = await PgSchema.create();
  // The admin connection works in the schema too, as the Python tests' db_session does in their database.
  await schema.admin.query(`SET search_path TO ${schema.name}`);
  await schema.admin.query(readFileSync(MIGRATION, "utf8"));
  config = {
    ...testConfig(uniquePrefix()),
    raw: {
      DB_URIS: { "orders:Base": PG_URL },
      // The service's tables are unqualified: its connections look them up in this file's schema.
      DB_ENGINE_OPTIONS: { options: `-c search_path=${schema.name}` },
    },
  };
});
beforeEach(() => schema.admin.query("TRUNCATE order_details, orders RESTART IDENTITY"));
afterAll(() => schema.cleanup());

/** Insert an order the way the Python `order` fixture does, outside the service; resolves with its id. */
async function order(): Promise<number> {
  const { rows } = await schema.admin.query<{ id: number }>("INSERT INTO orders DEFAULT VALUES RETURNING id");
  return rows[0]!.id;
}

describe("OrdersService (test/interface/test_service.py)", () => {
  const containerFactory = useContainerFactory({ log: testLogger() });
  let cluster: ClusterRpcProxy | undefined;
  afterEach(async () => {
    await cluster?.close();
    cluster = undefined;
  });

  /** The service with its event dispatcher mocked, and a proxy to it (the Python orders_service and orders_rpc). */
  async function ordersService() {
    const container = containerFactory(OrdersService, config);
    const [event_dispatcher] = replaceDependencies(container, "event_dispatcher");
    await container.start();
    cluster = await ClusterRpcProxy.connect({ config });
    return { container, event_dispatcher, orders_rpc: cluster.service<OrdersService>("orders") };
  }

  it("gets an order", async () => {
    const id = await order();
    const { orders_rpc } = await ordersService();
    const response = await orders_rpc.get_order(1);
    expect(response.id).toBe(id);
  });

  it("fails with NotFound on an order that does not exist", async () => {
    const { orders_rpc } = await ordersService();
    const error = await orders_rpc.get_order(1).catch((e: unknown) => e);
    // The reply's exc_path was orders.exceptions.NotFound: the proxy turned it back into the registered class.
    expect(error).toBeInstanceOf(NotFound);
    expect((error as NotFound).message).toBe("Order with id 1 not found");
  });

  it("creates an order, and dispatches order_created with it once stored", async () => {
    const { orders_rpc, event_dispatcher } = await ordersService();
    const order_details = [
      { product_id: "the_odyssey", price: "99.99", quantity: 1 },
      { product_id: "the_enigma", price: "5.99", quantity: 8 },
    ];
    const new_order = await orders_rpc.create_order(order_details);
    expect(new_order.id).toBeGreaterThan(0);
    expect(new_order.order_details).toHaveLength(order_details.length);
    expect(event_dispatcher.mock.calls).toEqual([
      [
        "order_created",
        {
          order: {
            id: 1,
            order_details: [
              { price: "99.99", product_id: "the_odyssey", id: 1, quantity: 1 },
              { price: "5.99", product_id: "the_enigma", id: 2, quantity: 8 },
            ],
          },
        },
      ],
    ]);
    expect(await schema.admin.query("SELECT id FROM order_details")).toMatchObject({ rowCount: 2 });
  });

  it("updates an order's quantities", async () => {
    const id = await order();
    await schema.admin.query(
      `INSERT INTO order_details (order_id, product_id, price, quantity)
       VALUES ($1, 'the_odyssey', 99.51, 1), ($1, 'the_enigma', 30.99, 8)`,
      [id],
    );
    const { orders_rpc } = await ordersService();
    const order_payload = await orders_rpc.get_order(id);
    for (const order_detail of order_payload.order_details) order_detail.quantity += 1;

    const updated_order = await orders_rpc.update_order(order_payload);

    expect(updated_order.order_details).toEqual(order_payload.order_details);
    expect(updated_order.order_details.map((d) => [d.price, d.quantity])).toEqual([
      ["99.51", 2],
      ["30.99", 9],
    ]);
  });

  it("deletes an order", async () => {
    const id = await order();
    const { orders_rpc } = await ordersService();
    await orders_rpc.delete_order(id);
    expect(await schema.admin.query("SELECT id FROM orders WHERE id = $1", [id])).toMatchObject({ rowCount: 0 });
  });
});

describe("the orders tables (test/unit/test_models.py)", () => {
  let pool: Pool;
  let db: SqlSession;
  beforeAll(() => {
    pool = new Pool({ connectionString: PG_URL, options: `-c search_path=${schema.name}` });
  });
  beforeEach(() => {
    db = new SqlSession(pool);
  });
  afterEach(() => db.close());
  afterAll(() => pool.end());

  it("creates an order", async () => {
    const created = await insertOrder(db, []);
    await db.commit();
    expect(created.id).toBeGreaterThan(0);
  });

  it("creates an order's details, prices kept to the cent", async () => {
    const created = await insertOrder(db, [
      { product_id: "the_enigma", price: 100.5, quantity: 1 },
      { product_id: "the_odyssey", price: 99.5, quantity: 2 },
    ]);
    await db.commit();

    expect(created.id).toBeGreaterThan(0);
    for (const detail of created.order_details) expect(detail.id).toBeGreaterThan(0);
    const [detail_1, detail_2] = (await findOrder(db, created.id))!.order_details;
    expect(detail_1).toMatchObject({ product_id: "the_enigma", price: "100.50", quantity: 1 });
    expect(detail_2).toMatchObject({ product_id: "the_odyssey", price: "99.50", quantity: 2 });
  });
});
