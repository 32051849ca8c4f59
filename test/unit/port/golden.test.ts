// The scaffolds under test/fixtures/port/generated/ and test/types/generated/ are what `cliffracer port`
// and `cliffracer types` write today: `npm test`'s tsc compiles them, test/integration/port runs them
// and test/types calls the generated interface, so each must stay equal to the generator's output.
import { readFileSync } from "node:fs";
import path from "node:path";
import { scaffoldPort, scaffoldTypes } from "../../../port";

const root = path.resolve(__dirname, "../../..");
const GENERATED = "test/fixtures/port/generated";

/** Python module -> its scaffold, both relative to the repository root. */
export const PORTED: ReadonlyArray<[string, string]> = [
  ["test/fixtures/port/nameko_docs.py", `${GENERATED}/nameko_docs.ts`],
  ["test/fixtures/port/nameko_examples.py", `${GENERATED}/nameko_examples.ts`],
  ["test/fixtures/port/signatures.py", `${GENERATED}/signatures.ts`],
  ["test/fixtures/port/typed_service.py", `${GENERATED}/typed_service.ts`],
  ["test/fixtures/port/products.py", `${GENERATED}/products.ts`],
  ["test/fixtures/port/orders.py", `${GENERATED}/orders.ts`],
  ["examples/greeting/greeting_service.py", `${GENERATED}/greeting_service.ts`],
  ["examples/payments/payments.py", `${GENERATED}/payments.ts`],
  ["examples/demo/user_service.py", `${GENERATED}/user_service.ts`],
];

const regenerate = (py: string): string => `node bin/cliffracer.js port ${py} --out ${GENERATED} --force`;

describe("generated scaffolds", () => {
  const cwd = process.cwd();
  beforeAll(() => process.chdir(root));
  afterAll(() => process.chdir(cwd));

  it.each(PORTED)("%s scaffolds to %s, byte for byte", (py, ts) => {
    const expected = readFileSync(ts, "utf8");
    const actual = scaffoldPort(py).text;
    if (actual !== expected) throw new Error(`${ts} is out of date; regenerate it with: ${regenerate(py)}`);
    expect(actual).toBe(expected);
  });

  it("the typed caller's interface is what `cliffracer types` writes", () => {
    const expected = readFileSync("test/types/generated/typed_service.api.ts", "utf8");
    expect(scaffoldTypes("test/fixtures/port/typed_service.py").text).toBe(expected);
  });
});
