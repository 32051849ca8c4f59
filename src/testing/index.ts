// cliffracer/testing: Nameko's test kit in TypeScript (docs/nameko-wire.md, Test kit).
export { workerFactory, createStub, type Stub, type StubCall } from "./worker-factory";
export { entrypointHook, findEntrypoint } from "./entrypoint-hook";
export { entrypointWaiter, type EntrypointWaiterOptions } from "./entrypoint-waiter";
