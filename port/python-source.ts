// Reading Python source with @lezer/python: a complete Python grammar in JavaScript, so porting needs
// no Python interpreter on the user's machine or in CI (docs/porting.md, How it reads Python).
import { parser } from "@lezer/python";
import { PythonSyntaxError } from "./errors";

/** A node of the syntax tree (lezer's SyntaxNode, named through the parser so no other package is imported). */
export type PyNode = ReturnType<typeof parser.parse>["topNode"];

/** A parsed Python module: its text, tree and a way to turn offsets into lines. */
export class PythonSource {
  private readonly lineStarts: number[] = [0];

  private constructor(
    readonly file: string,
    readonly text: string,
    readonly top: PyNode,
  ) {
    for (let i = 0; i < text.length; i++) if (text[i] === "\n") this.lineStarts.push(i + 1);
  }

  /** Parse `text`; throws PythonSyntaxError at the first place the grammar cannot continue. */
  static parse(file: string, text: string): PythonSource {
    const tree = parser.parse(text);
    const source = new PythonSource(file, text, tree.topNode);
    let error: PyNode | undefined;
    tree.iterate({
      enter: (n) => {
        if (error) return false;
        if (n.type.isError) error = n.node;
        return undefined;
      },
    });
    if (error) {
      // The parser notices a statement is broken where the next token fails to fit, often on a later
      // line; the place to show is just past the last token that did fit.
      let at = error.from;
      while (at > 0 && /\s/.test(text[at - 1])) at--;
      const { line, column } = source.position(at);
      const near = text.slice(error.from).trimStart().split("\n")[0].slice(0, 30);
      throw new PythonSyntaxError(
        file,
        line,
        column,
        near ? `cannot continue with ${JSON.stringify(near)}` : "unexpected end of file",
      );
    }
    return source;
  }

  /** 1-based line and column of an offset. */
  position(offset: number): { line: number; column: number } {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.lineStarts[lo] + 1 };
  }

  line(node: PyNode): number {
    return this.position(node.from).line;
  }

  textOf(node: PyNode): string {
    return this.text.slice(node.from, node.to);
  }
}

/** The direct children of a node, punctuation included. */
export function childrenOf(node: PyNode): PyNode[] {
  const out: PyNode[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) out.push(c);
  return out;
}

/** One argument of a call: positional (`name` undefined) or keyword. */
export interface CallArg {
  name?: string;
  value: PyNode;
}

/** The arguments of an ArgList node, `*x` and `**x` skipped (reported as not mappable by the caller). */
export function callArgs(source: PythonSource, argList: PyNode | null): { args: CallArg[]; starred: boolean } {
  const args: CallArg[] = [];
  let starred = false;
  if (!argList) return { args, starred };
  const kids = childrenOf(argList).filter((c) => !["(", ")", ","].includes(c.name));
  for (let i = 0; i < kids.length; i++) {
    const k = kids[i];
    if (k.name === "*" || k.name === "**") {
      starred = true;
      i++;
      continue;
    }
    if (k.name === "VariableName" && kids[i + 1]?.name === "AssignOp") {
      args.push({ name: source.textOf(k), value: kids[i + 2] });
      i += 2;
      continue;
    }
    args.push({ value: k });
  }
  return { args, starred };
}
