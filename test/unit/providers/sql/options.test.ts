// From DB_URIS and DB_ENGINE_OPTIONS to node-postgres's pool configuration, without a database.
import { ConfigurationError } from "../../../../compat";
import { DEFAULT_CONNECTION_TIMEOUT_MS, poolConfig, postgresUri } from "../../../../providers/sql/options";

describe("postgresUri", () => {
  it("reads SQLAlchemy's dialect+driver form as node-postgres's URI", () => {
    expect(postgresUri("postgresql+psycopg2://u:p@db/orders", "orders:Base")).toBe("postgresql://u:p@db/orders");
    expect(postgresUri("postgres://db/orders", "orders:Base")).toBe("postgresql://db/orders");
  });

  it("refuses another database by the key that names it", () => {
    expect(() => postgresUri("mysql://db/orders", "orders:Base")).toThrow(ConfigurationError);
    expect(() => postgresUri("orders.db", "orders:Base")).toThrow(/DB_URIS\["orders:Base"\] must be a postgresql/);
  });
});

describe("poolConfig", () => {
  it("defaults to a connect timeout and the service's name as application_name", () => {
    expect(poolConfig("postgresql://db/x", "orders", {}, {})).toEqual({
      connectionString: "postgresql://db/x",
      application_name: "orders",
      connectionTimeoutMillis: DEFAULT_CONNECTION_TIMEOUT_MS,
    });
  });

  it("translates SQLAlchemy's pool names; the config wins over the decorator's options", () => {
    const config = poolConfig(
      "postgresql://db/x",
      "orders",
      { max: 3, statement_timeout: 1000, pool_timeout: 1 },
      { pool_size: 4, pool_timeout: 2, pool_recycle: 60 },
    );
    expect(config).toMatchObject({
      max: 4 + 10,
      statement_timeout: 1000,
      connectionTimeoutMillis: 2000,
      maxLifetimeSeconds: 60,
    });
    expect(config).not.toHaveProperty("pool_size");
  });
});
