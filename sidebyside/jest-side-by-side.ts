/** The jest form of sideBySide(): one test that compares, or is skipped with its reason printed. */
import { expectSameAsOriginal, sideBySide, sideBySideMode, type SideBySideOptions } from "./side-by-side";

type TestFn = (name: string, fn: () => Promise<void>, timeoutMs?: number) => void;

/** jest's (or any jest-style runner's) global `it`, with `it.skip`, or a clear error where there is none. */
function jestIt(): TestFn & { skip: TestFn } {
  const it = (globalThis as { it?: TestFn & { skip?: TestFn } }).it;
  if (typeof it !== "function" || typeof it.skip !== "function")
    throw new Error("itSideBySide() registers a jest test: call it in a test file, outside any test");
  return it as TestFn & { skip: TestFn };
}

/**
 * Registers a test named `name` that compares the port with its original, live or from its
 * cassette, and fails with the readable diff when they differ. Without either it is skipped, and
 * the reason is printed (a skipped comparison must not pass unnoticed).
 */
export function itSideBySide(name: string, options: SideBySideOptions, timeoutMs = 120_000): void {
  const it = jestIt();
  const how = sideBySideMode(options);
  if (how.mode === "skip") {
    process.stdout.write(`side by side skipped: ${name}: ${how.reason}\n`);
    it.skip(`${name} (skipped: ${how.reason})`, () => Promise.resolve());
    return;
  }
  it(
    `${name} (${how.mode === "live" ? "live Nameko original" : "against its cassette"})`,
    async () => expectSameAsOriginal(await sideBySide(options)),
    timeoutMs,
  );
}
