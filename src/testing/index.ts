// cliffracer/testing: Nameko's test kit in TypeScript (docs/testing.md).
export { workerFactory, type WorkerInstance } from "./worker-factory";
export { createMock, type AnyMock, type DependencyMock } from "./mocks";
export { entrypointHook, findEntrypoint, type EntrypointHook, type TypedHook } from "./entrypoint-hook";
export { entrypointWaiter, type EntrypointWaiterOptions } from "./entrypoint-waiter";
export { replaceDependencies, type DependencyMocks } from "./replace-dependencies";
export { restrictEntrypoints } from "./restrict-entrypoints";
export {
  createContainerFactory,
  createRunnerFactory,
  useContainerFactory,
  useRunnerFactory,
  getContainer,
  type ContainerFactory,
  type RunnerFactory,
  type FactoryOptions,
} from "./factories";
export { ContainerNotFound, EntrypointWaiterTimeout, ExtensionNotFound, JestMockMissing } from "./errors";
export type { Injections, MethodName, PropertyName } from "./types";
