// The orders port against nameko-examples' original (Nameko 3.0, nameko-sqlalchemy, marshmallow 2),
// recorded from the real thing (examples/orders/orders.cassette.jsonl;
// docs/side-by-side.md, The examples): not found, create (with its order_created event), get,
// update, delete. The port's
// tables live in a schema of this test's own with the example's migration applied, so the calls
// meet the state they met on the original (ids from 1).
import { readFileSync } from "node:fs";
import path from "node:path";
import { itSideBySide } from "cliffracer/testing";
import { OrdersService } from "../../../examples/orders/service";
import { PG_URL, PgSchema } from "../../helpers/storage";

const MIGRATION = path.join(__dirname, "../../../examples/orders/migrations/001_initial_schema.sql");

let schema: PgSchema;
beforeAll(async () => {
  schema = await PgSchema.create();
  await schema.admin.query(`SET search_path TO ${schema.name}`);
  await schema.admin.query(readFileSync(MIGRATION, "utf8"));
});
afterAll(() => schema.cleanup());

itSideBySide("the orders port answers and dispatches like its Nameko original", {
  service: "orders",
  port: [OrdersService],
  // Read when the test runs, once beforeAll has made the schema.
  get portConfig() {
    return {
      DB_URIS: { "orders:Base": PG_URL },
      DB_ENGINE_OPTIONS: { options: `-c search_path=${schema.name}` },
    };
  },
  cassette: "examples/orders/orders.cassette.jsonl",
});
