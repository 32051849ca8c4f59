// Python literals (defaults, decorator options) and type hints as TypeScript.
import { literalToTs } from "../../../port/literals";
import { PythonSource } from "../../../port/python-source";
import { hintToTs } from "../../../port/type-hints";

/** The expression node of `x = <expr>` (or the annotation of `x: <expr>`). */
function expression(text: string, annotation = false) {
  const source = PythonSource.parse("t.py", `x${annotation ? ":" : " ="} ${text}\n`);
  const stmt = source.top.firstChild!;
  const node = annotation ? stmt.getChild("TypeDef")!.lastChild! : stmt.lastChild!;
  return { source, node };
}

const literal = (text: string): string | undefined => {
  const { source, node } = expression(text);
  return literalToTs(source, node);
};

const hint = (text: string, shapes: string[] = []): string => {
  const { source, node } = expression(text, true);
  return hintToTs(source, node, (name) => (shapes.includes(name) ? name : undefined));
};

describe("literalToTs", () => {
  it.each([
    ["True", "true"],
    ["None", "null"],
    ["-1.5", "-1.5"],
    ["1_000", "1000"],
    ["0x1F", "0x1F"],
    ["'it\\'s'", '"it\'s"'],
    ['"tab\\there\\x41\\u00e9"', '"tab\\thereAé"'],
    ["r'\\d+'", '"\\\\d+"'],
    ['"a" "b"', '"ab"'],
    ["[1, (2, 'x')]", '[1, [2, "x"]]'],
    ['{"k": None, "n": [True]}', '{ "k": null, "n": [true] }'],
    ["{}", "{}"],
  ])("%s is %s", (python, ts) => {
    expect(literal(python)).toBe(ts);
  });

  it.each([["datetime.now()"], ["DEFAULT"], ['f"{x}"'], ["b'x'"], ["{1, 2}"], ["{1: 'a'}"], ["1j"], ["lambda: 1"]])(
    "%s is not a literal",
    (python) => {
      expect(literal(python)).toBeUndefined();
    },
  );
});

describe("hintToTs", () => {
  it.each([
    ["int", "number"],
    ["float", "number"],
    ["str", "string"],
    ["bool", "boolean"],
    ["None", "null"],
    ["list[int]", "number[]"],
    ["typing.List[Optional[str]]", "Array<string | null>"],
    ["dict[str, list[int]]", "Record<string, number[]>"],
    ["Dict", "Record<string, unknown>"],
    ["tuple[int, ...]", "number[]"],
    ["Tuple[int, str]", "[number, string]"],
    ["Optional[int]", "number | null"],
    ["Union[int, str, None]", "number | string | null"],
    ["int | None", "number | null"],
    ["Literal['a', 1]", '"a" | 1'],
    ["Annotated[str, 'doc']", "string"],
    ["Any", "unknown"],
    ["bytes", "unknown"],
    ["Union[int, Foo]", "unknown"],
    ["User", "User"],
    ["'User'", "User"],
    ["list[User]", "User[]"],
  ])("%s is %s", (python, ts) => {
    expect(hint(python, ["User"])).toBe(ts);
  });
});
