// `cliffracer route`'s arguments become the whole new table; its output names each weight.
import { formatRoutes, tableFromArgs } from "../../../bridge/route-command";
import { CommandError } from "../../../src/errors";

describe("cliffracer route: the table from its arguments", () => {
  it("sends methods not named to the default, 0 unless given", () => {
    expect(tableFromArgs(["get_user=100", "create_user=12.5"], undefined)).toEqual({
      "*": 0,
      get_user: 100,
      create_user: 12.5,
    });
    expect(tableFromArgs([], "30")).toEqual({ "*": 30 });
    expect(tableFromArgs(["*=40"], undefined)).toEqual({ "*": 40 });
  });

  it("refuses what is not method=number, and a default given twice", () => {
    expect(() => tableFromArgs(["get_user"], undefined)).toThrow(CommandError);
    expect(() => tableFromArgs(["=5"], undefined)).toThrow(CommandError);
    expect(() => tableFromArgs(["get_user=lots"], undefined)).toThrow(/get_user: a weight is a number/);
    expect(() => tableFromArgs([], "")).toThrow(/--default/);
    expect(() => tableFromArgs(["*=1"], "2")).toThrow(/once/);
  });

  it("prints the weights, who set them, and the history", () => {
    const text = formatRoutes({
      service: "orders",
      routes: { "*": 0, get_user: 100 },
      revision: 4,
      at: "2026-12-07T06:00:00.000Z",
      action: "rollback",
      by: "bridge-a",
      restored: 2,
      history: [{ routes: { "*": 0 }, revision: 4, at: "2026-12-07T06:00:00.000Z", action: "set", by: "bridge-a" }],
    });
    expect(text).toBe(
      [
        "orders (revision 4, rollback to revision 2 by bridge-a at 2026-12-07T06:00:00.000Z)",
        "  *           0% to the port",
        "  get_user  100% to the port",
        "history (newest first):",
        '  4  set by bridge-a at 2026-12-07T06:00:00.000Z  {"*":0}',
        "",
      ].join("\n"),
    );
    expect(
      formatRoutes({ service: "orders", routes: { "*": 0 }, revision: null, at: null, action: null, by: null }),
    ).toBe("orders (no table set: every call goes to the original)\n  *    0% to the port\n");
  });
});
