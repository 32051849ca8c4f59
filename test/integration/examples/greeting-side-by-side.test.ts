import { readFileSync } from "node:fs";
import { itSideBySide, sideBySide, type SideBySideOptions } from "cliffracer/testing";
import { rpc } from "cliffracer";
import { GreetingService } from "../../../examples/greeting/greeting-service";
import { parseCallsFile } from "../../../sidebyside";

jest.setTimeout(120_000);

const comparison: SideBySideOptions = {
  service: "greeting_service",
  port: [GreetingService],
  original: {
    module: "examples/greeting/greeting_service.py",
    classes: ["GreetingService"],
    others: [{ module: "examples/demo/user_service.py", classes: ["UserService"] }],
  },
  cassette: "examples/greeting/greeting_service.cassette.jsonl",
  calls: parseCallsFile(readFileSync("examples/greeting/side-by-side.calls.json", "utf8")),
};

// Live with NAMEKO_PYTHON set, else against the cassette recorded from the real original.
itSideBySide("the greeting port answers every call of its calls file like its Nameko original", comparison);

// The original's user_service replaced by a stub both sides share: the original calls the stub live,
// and the port is answered with what the stub answered the original.
itSideBySide("the greeting port matches its original with user_service stubbed", {
  ...comparison,
  original: { module: "examples/greeting/greeting_service.py", classes: ["GreetingService"] },
  stubs: { user_service: { get_user: (id) => ({ id, name: id === 1 ? "Grace Hopper" : "Ada Lovelace" }) } },
  calls: [
    { method: "greet_user", args: [1] },
    { method: "greet_user", args: [2] },
  ],
});

/** A port with one deliberate difference: hello's punctuation default. */
class PortWithWrongDefault extends GreetingService {
  @rpc()
  override hello(name: string, punctuation = "."): string {
    return super.hello(name, punctuation);
  }
}

it("a port that differs is caught against the cassette, with the path, the expected and the actual value", async () => {
  const result = await sideBySide({
    ...comparison,
    original: undefined,
    port: [PortWithWrongDefault],
    calls: [
      { method: "hello", args: ["Ada"] },
      { method: "hello", args: ["Ada", "?"] },
    ],
  });
  expect(result.mode).toBe("cassette");
  expect(result.report.ok).toBe(false);
  expect(result.report.calls.map((c) => c.ok)).toEqual([false, true]);
  expect(result.text).toContain("reply.result");
  expect(result.text).toContain('"Hello, Ada!"');
  expect(result.text).toContain('"Hello, Ada."');
});

it("a call its cassette never recorded is refused by name, not compared with nothing", async () => {
  await expect(
    sideBySide({ ...comparison, original: undefined, calls: [{ method: "hello", args: ["Nobody"] }] }),
  ).rejects.toThrow(/NotInCassette|no recording of greeting_service.hello/);
});
