import { ConfigurationError } from "../compat";

/** A service class that cannot run: no valid `name`, or an entrypoint that cannot be set up. */
export class ServiceDefinitionError extends ConfigurationError {
  constructor(message: string) {
    super(message);
    this.name = "ServiceDefinitionError";
  }
}

/** A worker was asked for while its container is being killed (Nameko's ContainerBeingKilled). */
export class ContainerBeingKilled extends Error {
  constructor(serviceName: string) {
    super(`Container of ${serviceName} is being killed`);
    this.name = "ContainerBeingKilled";
  }
}

/** A CLI argument or module that cannot be used (Nameko's CommandError). */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CommandError";
  }
}
