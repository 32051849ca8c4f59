import { readFileSync } from "node:fs";
import { itSideBySide, sideBySide, type SideBySideOptions } from "cliffracer/testing";
import { KeyError, rpc, ValueError } from "cliffracer";
import { GreetingService as GreetingScaffold } from "../../fixtures/port/generated/greeting_service";
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

/**
 * `cliffracer port`'s scaffold of greeting_service.py with its bodies filled in, as a user would:
 * the methods are overridden without decorators, so the scaffold's entrypoints, names, parameters
 * and defaults are what callers meet (docs/porting.md).
 */
class FilledInScaffold extends GreetingScaffold {
  override hello(name: unknown, punctuation: unknown = "!"): string {
    return `Hello, ${String(name)}${String(punctuation)}`;
  }

  override async greet_user(user_id: unknown): Promise<string> {
    const user = (await this.users.call("get_user", user_id)) as { name: string };
    return this.hello(user.name);
  }

  override welcome(name: unknown, language: unknown = "en"): string {
    if (!name) throw new ValueError("name must not be empty");
    const greeting = ({ en: "Welcome", fr: "Bienvenue" } as Record<string, string>)[String(language)];
    if (greeting === undefined) throw new KeyError(JSON.stringify(language));
    return `${greeting}, ${String(name)}`;
  }
}

itSideBySide("the port scaffold of greeting_service.py, bodies filled in, answers like the original", {
  ...comparison,
  port: [FilledInScaffold],
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
