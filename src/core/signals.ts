import { errorLogFields, type Logger } from "../../compat";
import { rootLogger } from "../logging";

/** What can be stopped gracefully or at once: a ServiceRunner, the bridge. */
export interface Stoppable {
  /** Stop taking work, let what is under way finish, release connections. */
  stop(): Promise<void>;
  /** Stop at once, abandoning what is under way. */
  kill(): Promise<void>;
}

const SIGNALS: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"];

/**
 * Stop `target` gracefully on SIGTERM or SIGINT and resolve with the exit code: 0 after a clean
 * stop, 1 if stopping failed or a second signal killed it at once. Listens from the call on (so
 * a signal during start-up is handled too) until it resolves.
 */
export function stopOnSignals(target: Stoppable, log: Logger = rootLogger): Promise<number> {
  return new Promise((resolve) => {
    let signalled = false;
    const finish = (code: number): void => {
      for (const s of SIGNALS) process.off(s, onSignal);
      resolve(code);
    };
    const failed =
      (what: string) =>
      (err: unknown): void => {
        log.error(what, errorLogFields(err));
        finish(1);
      };
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        log.warn("second signal: killing", { signal });
        target.kill().then(() => finish(1), failed("kill failed"));
        return;
      }
      signalled = true;
      log.info("stopping", { signal });
      target.stop().then(() => finish(0), failed("graceful stop failed"));
    };
    for (const s of SIGNALS) process.on(s, onSignal);
  });
}
