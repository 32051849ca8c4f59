import { homedir } from "node:os";
import path from "node:path";
import { RemoteError, UnknownService } from "../../../compat";
import { historyFile, shellWriter } from "../../../src/cli/shell";
import { rpcCompletions, rpcCompletionTarget } from "../../../src/cli/shell-completion";

describe("cliffracer shell completion", () => {
  const services = new Map([
    ["users", new Set(["get_user", "get_users", "whoami"])],
    ["audit", new Set(["count"])],
    ["my-svc", new Set(["ping"])],
  ]);

  it("completes service names after n.rpc., leaving out names that cannot follow a dot", () => {
    const target = rpcCompletionTarget("await n.rpc.");
    expect(target).toEqual({ kind: "service", base: "n.rpc.", partial: "" });
    expect(rpcCompletions(target!, services)).toEqual([["n.rpc.audit", "n.rpc.users"], "n.rpc."]);
    expect(rpcCompletions(rpcCompletionTarget("x = n.rpc.us")!, services)).toEqual([["n.rpc.users"], "n.rpc.us"]);
  });

  it("completes the methods of the named service", () => {
    const target = rpcCompletionTarget("n.rpc.users.get_u");
    expect(target).toEqual({ kind: "method", service: "users", base: "n.rpc.users.", partial: "get_u" });
    expect(rpcCompletions(target!, services)).toEqual([
      ["n.rpc.users.get_user", "n.rpc.users.get_users"],
      "n.rpc.users.get_u",
    ]);
    expect(rpcCompletions(rpcCompletionTarget("n.rpc.nobody.")!, services)).toEqual([[], "n.rpc.nobody."]);
  });

  it("leaves other lines, and n.rpc inside a longer name, to the REPL's own completion", () => {
    expect(rpcCompletionTarget("n.con")).toBeUndefined();
    expect(rpcCompletionTarget("fn.rpc.")).toBeUndefined();
    expect(rpcCompletionTarget("x.n.rpc.users.")).toBeUndefined();
    expect(rpcCompletionTarget("n.rpc.users.get_user(1).")).toBeUndefined();
  });
});

describe("cliffracer shell output and history", () => {
  it("prints Nameko's errors as one line, other values inspected in full", () => {
    expect(shellWriter(new RemoteError("ValueError", "no user 0"))).toBe("RemoteError: ValueError no user 0");
    expect(shellWriter(new UnknownService("users"))).toBe("UnknownService: Unknown service `users`");
    // Past the REPL's default depth of 2, which would show [Object].
    expect(shellWriter({ a: { b: { c: { d: 1 } } } }).replace(/\s+/g, " ")).toBe("{ a: { b: { c: { d: 1 } } } }");
  });

  it("keeps history in CLIFFRACER_HISTORY, else ~/.cliffracer_history, and none when it is empty", () => {
    expect(historyFile({ CLIFFRACER_HISTORY: "/tmp/h" })).toBe("/tmp/h");
    expect(historyFile({})).toBe(path.join(homedir(), ".cliffracer_history"));
    expect(historyFile({ CLIFFRACER_HISTORY: "" })).toBeUndefined();
  });
});
