// cliffracer/testing: Nameko's test kit (docs/testing.md) and the side-by-side comparison of a port
// with its Nameko original (docs/side-by-side.md), which needs the AMQP side and so lives here.
export * from "../src/testing";
export {
  expectSameAsOriginal,
  NotInCassette,
  sideBySide,
  SideBySideMismatch,
  sideBySideMode,
  SideBySideUnavailable,
  type SideBySideMode,
  type SideBySideOptions,
  type SideBySideResult,
} from "./side-by-side";
export { itSideBySide } from "./jest-side-by-side";
export type { CallSpec, EventSpec } from "./calls-file";
export type { StubMethod, StubServices } from "./live-recording";
export { NAMEKO_PYTHON_ENV, namekoPython } from "./nameko-original";
