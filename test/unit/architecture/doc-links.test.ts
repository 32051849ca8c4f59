import {
  anchorOf,
  brokenDocReferences,
  citedPaths,
  citedSections,
  citingFiles,
  citingText,
  isGenerated,
  pathInRepo,
} from "./doc-links";

/** An in-memory sample: one citing file; the names it cites are looked up in the repository. */
const withFile = (file: string, text: string): Map<string, string> => new Map([[file, text]]);

describe("documents named in the repository", () => {
  it("all resolve to files, sections and headings of the repository, and none uses private shorthand", () => {
    expect(brokenDocReferences(citingFiles(), pathInRepo, isGenerated)).toEqual([]);
  });

  it("are read from source comments, tsconfig comments, shell scripts and Markdown", () => {
    const files = citingFiles();
    for (const file of ["src/index.ts", "bin/cliffracer.js", "tsconfig.jest.json", ".ci/run", "README.md"])
      expect({ file, read: files.has(file) }).toEqual({ file, read: true });
    for (const file of ["package-lock.json", "test/interop/vectors/rpc-errors.json"])
      expect({ file, read: files.has(file) }).toEqual({ file, read: false });
  });

  it("fail when a comment cites a document that is not in the repository", () => {
    const found = brokenDocReferences(
      withFile("src/errors.ts", "// The reply envelope (docs/no-such-notes.md, RPC replies).\nexport {};\n"),
      pathInRepo,
      isGenerated,
    );
    expect(found).toEqual(["src/errors.ts: names docs/no-such-notes.md, which is not in the repository"]);
  });

  it.each([
    ["a line comment", "// see LOST_NOTES.md\nexport const x = 1;"],
    ["a block comment", "/** see LOST_NOTES.md */\nexport const x = 1;"],
    ["a trailing comment", "export const x = 1; // see LOST_NOTES.md"],
    ["a comment inside a function", "export function f(): number {\n  // see LOST_NOTES.md\n  return 1;\n}"],
  ])("find a cited document in %s", (_where, text) => {
    expect(brokenDocReferences(withFile("compat/sample.ts", text), pathInRepo)).toEqual([
      "compat/sample.ts: names LOST_NOTES.md, which is not in the repository",
    ]);
  });

  it("ignore document names in code, and in comments only when they exist", () => {
    const text = [
      'const path = "LOST_NOTES.md"; // the error catalogue is in MIGRATION.md',
      "/* docs/architecture.md, Entries; ./README.md */",
    ].join("\n");
    expect(brokenDocReferences(withFile("src/sample.ts", text), pathInRepo)).toEqual([]);
  });

  it("fail on a missing document in a shell script's comments and in a Markdown link", () => {
    expect(
      brokenDocReferences(withFile("scripts/sample.sh", "#!/bin/sh\necho hi # see LOST_NOTES.md\n"), pathInRepo),
    ).toEqual(["scripts/sample.sh: names LOST_NOTES.md, which is not in the repository"]);
    expect(
      brokenDocReferences(withFile("examples/sample.md", "Read [the guide](../docs/lost-guide.md#intro)."), pathInRepo),
    ).toEqual(["examples/sample.md: names ../docs/lost-guide.md, which is not in the repository"]);
  });

  it("resolve names relative to the citing file and to the root, and skip URLs", () => {
    const text = [
      "[the demo](demo/run-demo.ts) and [the payments port](payments/README.md), see docs/nats-contract.md",
      "and https://example.com/LOST_NOTES.md, [upstream](https://example.com/lost.md).",
    ].join("\n");
    expect(brokenDocReferences(withFile("examples/sample.md", text), pathInRepo)).toEqual([]);
    expect(citedPaths(text, true).sort()).toEqual(
      ["demo/run-demo.ts", "docs/nats-contract.md", "payments/README.md"].sort(),
    );
  });

  it("accept a generated file under a folder git ignores", () => {
    const files = withFile("BENCHMARKS.md", "The run writes bench/results/example-run.md.");
    expect(brokenDocReferences(files, pathInRepo, isGenerated)).toEqual([]);
    expect(brokenDocReferences(files, pathInRepo)).toEqual([
      "BENCHMARKS.md: names bench/results/example-run.md, which is not in the repository",
    ]);
  });

  it("fail on section numbers and private shorthand in comments", () => {
    // Built from parts, so this file does not itself hold the shorthand it tests.
    const section = "// as the notes say in \u00a7" + "5.3";
    const plan = "// work" + "stream E adds fields here";
    const found = brokenDocReferences(
      withFile("src/sample.ts", `${section}\n${plan}\nexport const x = 1;`),
      pathInRepo,
    );
    expect(found).toEqual([
      `src/sample.ts: "${section}" uses a section number (cite the section's title: numbers drift)`,
      `src/sample.ts: "${plan}" uses a private plan's name (say what is meant)`,
    ]);
  });

  it("fail when a comment cites a section title the document does not have", () => {
    const text = [
      "/**",
      " * Replies carry no context (docs/nameko-wire.md, RPC replies, Reply envelope); names are checked",
      " * (docs/nats-contract.md, Names: no wildcards).",
      " */",
      "export const x = 1;",
    ].join("\n");
    expect(brokenDocReferences(withFile("src/sample.ts", text), pathInRepo)).toEqual([
      'src/sample.ts: cites section "Reply envelope" of docs/nameko-wire.md, which has no such heading',
    ]);
  });

  it("read a cited section across the lines of a comment, and only titles", () => {
    const block =
      "/**\n * as Nameko names them (docs/nameko-wire.md, Event\n * handler queues), see docs/nats-contract.md, which says more.\n */";
    expect(citedSections(citingText("src/sample.ts", block)[0], false)).toEqual([
      { doc: "docs/nameko-wire.md", title: "Event handler queues" },
    ]);
    expect(citedSections("see `docs/nats-contract.md`, Headers, and `docs/nats-contract.md, <Section>`", true)).toEqual(
      [{ doc: "docs/nats-contract.md", title: "Headers" }],
    );
  });

  it("fail on a Markdown link to a heading that does not exist", () => {
    const text = "See [the stack](docs/nameko-wire.md#call-id-stack) and [the stack](docs/nameko-wire.md#call-stack).";
    expect(brokenDocReferences(withFile("sample.md", text), pathInRepo)).toEqual([
      "sample.md: links to #call-stack of docs/nameko-wire.md, which has no such heading",
    ]);
    expect(anchorOf("Nameko 3.0 differences")).toBe("nameko-30-differences");
  });

  it("read comments only, not strings, in TypeScript", () => {
    expect(citingText("src/sample.ts", 'const a = "// not a comment"; /* a comment */')).toEqual(["/* a comment */"]);
  });
});
