import {
  chooseSide,
  InvalidRouteTable,
  parseServiceRoutes,
  routePoint,
  serviceRoutesToJson,
  weightFor,
} from "../../../bridge/routing/route-table";

describe("route table", () => {
  const known = new Set(["get_user", "create_user"]);

  it("reads per-method weights over the default", () => {
    const routes = parseServiceRoutes("users", { "*": 5, get_user: 100, create_user: 10 }, known);
    expect(weightFor(routes, "get_user")).toBe(100);
    expect(weightFor(routes, "create_user")).toBe(10);
    expect(weightFor(routes, "delete_user")).toBe(5);
    expect(serviceRoutesToJson(routes)).toEqual({ "*": 5, get_user: 100, create_user: 10 });
  });

  it("keeps methods without a weight on the original when there is no default", () => {
    expect(weightFor(parseServiceRoutes("users", { get_user: 100 }), "create_user")).toBe(0);
  });

  it.each([
    [{ get_user: 101 }, /from 0 to 100/],
    [{ get_user: -1 }, /from 0 to 100/],
    [{ get_user: "50" }, /from 0 to 100/],
    [{ get_user: 0.001 }, /two decimals/],
    [{ remove_user: 10 }, /unknown method "remove_user"/],
    [[1, 2], /expected an object/],
    [null, /expected an object/],
  ])("refuses %j", (table, message) => {
    expect(() => parseServiceRoutes("users", table, known)).toThrow(InvalidRouteTable);
    expect(() => parseServiceRoutes("users", table, known)).toThrow(message);
  });

  it("sends everything to one side at 0 and 100", () => {
    const none = parseServiceRoutes("users", { "*": 0 });
    const all = parseServiceRoutes("users", { "*": 100 });
    for (let i = 0; i < 1000; i++) {
      expect(chooseSide(none, "m", `reply-${i}:${i}`)).toBe("original");
      expect(chooseSide(all, "m", `reply-${i}:${i}`)).toBe("port");
    }
  });

  it("picks the same side for the same request identity every time", () => {
    const half = parseServiceRoutes("users", { "*": 50 });
    for (let i = 0; i < 100; i++) {
      const id = `rpc.reply-caller-${i}:corr-${i * 7}`;
      expect(chooseSide(half, "m", id)).toBe(chooseSide(half, "m", id));
    }
  });

  it.each([1, 10, 50, 90])("sends about %i%% of distinct requests to the port", (weight) => {
    const routes = parseServiceRoutes("users", { "*": weight });
    const n = 20_000;
    let port = 0;
    for (let i = 0; i < n; i++) if (chooseSide(routes, "m", `rpc.reply-caller-abc:${i}-uuid`) === "port") port++;
    // Binomial standard deviation at n = 20,000 is at most 0.35 points; 1.5 points is > 4 sigma.
    expect(Math.abs((port / n) * 100 - weight)).toBeLessThan(1.5);
  });

  it("maps identities into [0, 100)", () => {
    for (let i = 0; i < 1000; i++) {
      const p = routePoint(`x${i}`);
      expect(p).toBeGreaterThanOrEqual(0);
      expect(p).toBeLessThan(100);
    }
  });
});
