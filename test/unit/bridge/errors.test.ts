import { deserializeError, RemoteError, serializeError } from "../../../compat";
import { BridgeLoop, BridgeUnavailable } from "../../../bridge/errors";

describe("the bridge's own errors", () => {
  it.each([
    [BridgeUnavailable, "BridgeUnavailable"],
    [BridgeLoop, "BridgeLoop"],
  ])("%p travels as cliffracer.bridge.%s and reaches every caller as a RemoteError", (cls, name) => {
    const err = new cls("the other side is away");
    expect(err.name).toBe(name);
    expect(serializeError(err)).toEqual({
      exc_type: name,
      exc_path: `cliffracer.bridge.${name}`,
      exc_args: ["the other side is away"],
      value: "the other side is away",
    });
    const back = deserializeError(serializeError(err));
    expect(back).toBeInstanceOf(RemoteError);
    expect(back).toMatchObject({ excType: name, value: "the other side is away" });
  });
});
