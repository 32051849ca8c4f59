/** A dependency or entrypoint named in a test helper that the service does not have (Nameko's ExtensionNotFound). */
export class ExtensionNotFound extends Error {
  constructor(
    /** What was looked for: "dependency" or "entrypoint". */
    readonly kind: "dependency" | "entrypoint",
    /** The names the service lacks. */
    readonly missing: readonly string[],
    /** The names the service has, to spot a misspelling. */
    readonly known: readonly string[],
    serviceName: string,
  ) {
    const list = missing.map((n) => `"${n}"`).join(", ");
    const has = known.length > 0 ? known.join(", ") : "none";
    super(
      `${serviceName} has no ${kind} ${list} (its ${kind === "dependency" ? "dependencies" : "entrypoints"}: ${has})`,
    );
    this.name = "ExtensionNotFound";
  }
}

/** No worker of the awaited entrypoint finished in time (Nameko's EntrypointWaiterTimeout). */
export class EntrypointWaiterTimeout extends Error {
  constructor(serviceName: string, methodName: string, timeoutMs: number) {
    super(`entrypoint ${serviceName}.${methodName} did not fire within ${timeoutMs} ms`);
    this.name = "EntrypointWaiterTimeout";
  }
}

/** getContainer was asked for a service class the runner does not host. */
export class ContainerNotFound extends Error {
  constructor(className: string, hosted: readonly string[]) {
    super(`the runner hosts no container of ${className} (it hosts: ${hosted.join(", ") || "nothing"})`);
    this.name = "ContainerNotFound";
  }
}

/** cliffracer/testing needs the optional peer dependency `jest-mock` for its mocks. */
export class JestMockMissing extends Error {
  constructor(cause: unknown) {
    super("cliffracer/testing makes its mocks with the jest-mock package: npm install --save-dev jest-mock", {
      cause,
    });
    this.name = "JestMockMissing";
  }
}
