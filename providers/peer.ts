// The client libraries are optional peer dependencies: loaded when a provider is set up, so that
// importing cliffracer/sql or cliffracer/redis (to declare a service, or in a unit test) needs
// neither, and a missing one is an error that says what to install (docs/providers.md, Errors).
import { ConfigurationError, describeError } from "../compat/index";

/** `load()`'s module, or a ConfigurationError naming the package to install. */
export async function loadPeer<T>(entry: string, pkg: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw new ConfigurationError(
      `${entry} needs the ${pkg} package, an optional peer dependency of cliffracer: npm install ${pkg} (${describeError(err)})`,
    );
  }
}
