import type { Logger } from "winston";
import { WarnThrottle } from "../../../bridge/warn-throttle";

/** A logger that records warn() calls; WarnThrottle only calls warn. */
function recordingLogger(): { log: Logger; lines: Array<[string, Record<string, unknown>]> } {
  const lines: Array<[string, Record<string, unknown>]> = [];
  const log = {
    warn: (message: string, meta: Record<string, unknown>) => lines.push([message, meta]),
  } as unknown as Logger;
  return { log, lines };
}

describe("WarnThrottle", () => {
  it("logs the first warning of a key at once and leaves out repeats within the interval", () => {
    const { log, lines } = recordingLogger();
    let now = 0;
    const throttle = new WarnThrottle(log, 5_000, () => now);
    throttle.warn("refused", "call failed", { n: 1 });
    now = 1_000;
    throttle.warn("refused", "call failed", { n: 2 });
    throttle.warn("refused", "call failed", { n: 3 });
    expect(lines).toEqual([["call failed", { n: 1 }]]);
  });

  it("after the interval logs again with how many were left out", () => {
    const { log, lines } = recordingLogger();
    let now = 0;
    const throttle = new WarnThrottle(log, 5_000, () => now);
    throttle.warn("refused", "call failed", { n: 1 });
    throttle.warn("refused", "call failed", { n: 2 });
    throttle.warn("refused", "call failed", { n: 3 });
    now = 5_000;
    throttle.warn("refused", "call failed", { n: 4 });
    now = 10_000;
    throttle.warn("refused", "call failed", { n: 5 });
    expect(lines).toEqual([
      ["call failed", { n: 1 }],
      ["call failed", { n: 4, suppressed: 2 }],
      ["call failed", { n: 5 }],
    ]);
  });

  it("throttles each key on its own", () => {
    const { log, lines } = recordingLogger();
    const throttle = new WarnThrottle(log, 5_000, () => 0);
    throttle.warn("refused", "call failed", {});
    throttle.warn("timeout", "call failed", {});
    throttle.warn("refused", "call failed", {});
    expect(lines.length).toBe(2);
  });
});
