// cliffracer/testing: Nameko's test kit in TypeScript (NAMEKO_PROTOCOL.md §11).
export { workerFactory, createStub, type Stub, type StubCall } from "./worker-factory";
export { entrypointHook, findEntrypoint } from "./entrypoint-hook";
export { entrypointWaiter, type EntrypointWaiterOptions } from "./entrypoint-waiter";
