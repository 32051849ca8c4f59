// The bridge's first NATS connection (dialNats with waitForServer): an unreachable server is waited
// for, with one warning, and a stop ends the wait with ConnectionFailed
// (docs/security.md, Failures at start-up). The server is the shared one behind a TCP proxy the
// test cuts and restores.
import { dialNats } from "../../../src/nats/connection";
import { ConnectionFailed, type Logger } from "../../../compat";
import { NATS_URL } from "../../helpers/brokers";
import { TcpProxy } from "../../helpers/tcp-proxy";
import { waitFor } from "../../helpers/waiters";

jest.setTimeout(20_000);

/** A logger keeping the messages of its warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message: string) => warnings.push(message),
    error: () => undefined,
    child: () => log,
    isDebugEnabled: () => false,
  };
  return log;
}

describe("dialNats waiting for the server", () => {
  let proxy: TcpProxy;
  beforeEach(async () => {
    proxy = await TcpProxy.start(Number(new URL(NATS_URL).port || 4222));
    await proxy.cut();
  });
  afterEach(() => proxy.close());

  it("keeps trying while the server is unreachable and connects once it is back, warning once", async () => {
    const log = recordingLogger();
    const dialing = dialNats({ servers: proxy.via(NATS_URL) }, { log, waitForServer: true });
    await waitFor(() => log.warnings.length > 0, { what: "the first failed attempt", timeoutMs: 5_000 });
    await proxy.restore();
    const nc = await dialing;
    await nc.close();
    expect(log.warnings).toEqual(["nats not reachable yet; retrying"]);
  });

  it("gives up with ConnectionFailed when its signal is aborted", async () => {
    const log = recordingLogger();
    const stop = new AbortController();
    const dialing = dialNats({ servers: proxy.via(NATS_URL) }, { log, waitForServer: true, signal: stop.signal });
    await waitFor(() => log.warnings.length > 0, { what: "the first failed attempt", timeoutMs: 5_000 });
    stop.abort();
    await expect(dialing).rejects.toBeInstanceOf(ConnectionFailed);
  });
});
