/**
 * Documents named by the repository must be in the repository (docs/architecture.md, Documents).
 * Finds every Markdown file named in the comments of source files (TypeScript and JavaScript,
 * tsconfig files, shell, Python and YAML) and anywhere in the Markdown files themselves, plus the
 * relative targets of Markdown links, and reports those that resolve to nothing, relative to the
 * citing file or to the repository root. A section of a docs/ page cited by title
 * (`docs/nats-contract.md, Headers`) and a linked `#anchor` must be a heading of that page. Also
 * reports section numbers and private shorthand in comments and documents, which say nothing to a
 * reader of the repository.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, posix } from "node:path";
import ts from "typescript";
import { root } from "./layers";

/** Source files whose comments are read through the TypeScript parser. */
const TS_LIKE = /\.(ts|tsx|js|mjs|cjs)$/;
/** tsconfig files: JSON with comments. */
const TSCONFIG = /(^|\/)tsconfig[\w.-]*\.json$/;
/** Files whose comments start with `#`. */
const HASH_COMMENTS = /\.(sh|bash|py|ya?ml)$/;

/** A Markdown file's name as prose or a comment cites it: `MIGRATION.md`, `docs/nats-contract.md`, `./README.md`. */
const MD_NAME = /(?<![\w./-])((?:\.{1,2}\/)*[\w-][\w.-]*(?:\/[\w.-]+)*\.md)(?![\w-])/g;
/** A Markdown inline link or image: `[text](target "title")`. */
const MD_LINK = /!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;
/** URLs: names inside them belong to other sites. */
const URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)>\]"'`]+/gi;

/** Shorthand that only the authors can read: section numbers, and names of private plans and lists. */
const PRIVATE_REFERENCES: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /§/, what: "a section number (cite the section's title: numbers drift)" },
  { pattern: /\bworkstream\b/i, what: "a private plan's name (say what is meant)" },
  { pattern: /\bpitfalls? \d/i, what: "a private list's item number (say what is meant)" },
];

/** The kind of file a path is, for finding its comments; undefined when it is not read. */
export function fileKind(file: string, text: string): "ts" | "json" | "hash" | "markdown" | undefined {
  if (file.endsWith(".md")) return "markdown";
  if (TSCONFIG.test(file)) return "json";
  if (TS_LIKE.test(file)) return "ts";
  if (HASH_COMMENTS.test(file)) return "hash";
  if (!posix.basename(file).includes(".") && /^#!.*\b(ba)?sh\b/.test(text)) return "hash";
  return undefined;
}

/** The comments of a TypeScript, JavaScript or JSON-with-comments source, as the parser sees them. */
export function tsComments(file: string, text: string, kind: ts.ScriptKind = ts.ScriptKind.TS): string[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, kind);
  const seen = new Set<number>();
  const out: string[] = [];
  const take = (ranges: ts.CommentRange[] | undefined): void => {
    for (const r of ranges ?? []) {
      if (seen.has(r.pos)) continue;
      seen.add(r.pos);
      out.push(text.slice(r.pos, r.end));
    }
  };
  const visit = (node: ts.Node): void => {
    take(ts.getLeadingCommentRanges(text, node.getFullStart()));
    take(ts.getTrailingCommentRanges(text, node.getEnd()));
    for (const child of node.getChildren(sf)) visit(child);
  };
  visit(sf);
  return out;
}

/** `#` comments (whole lines and line ends), and Python docstrings. */
export function hashComments(file: string, text: string): string[] {
  const out: string[] = [];
  for (const line of text.split("\n")) {
    const m = /(?:^|\s)#(?!!)(.*)$/.exec(line);
    if (m) out.push(m[1]);
  }
  if (file.endsWith(".py")) for (const m of text.matchAll(/("""|''')([\s\S]*?)\1/g)) out.push(m[2]);
  return out;
}

/** The text of a file in which documents are cited: its comments, or all of a Markdown file. */
export function citingText(file: string, text: string): string[] {
  switch (fileKind(file, text)) {
    case "markdown":
      return [text];
    case "ts":
      return tsComments(file, text, /\.(js|mjs|cjs)$/.test(file) ? ts.ScriptKind.JS : ts.ScriptKind.TS);
    case "json":
      return tsComments(file, text, ts.ScriptKind.JSON);
    case "hash":
      return hashComments(file, text);
    default:
      return [];
  }
}

/** The paths a piece of citing text names: Markdown file names, and relative link targets in Markdown. */
export function citedPaths(text: string, markdown: boolean): string[] {
  const found = new Set<string>();
  if (markdown) {
    for (const m of text.matchAll(MD_LINK)) {
      const target = m[1].split("#")[0];
      if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("/")) continue;
      found.add(decodeURIComponent(target));
    }
  }
  for (const m of text.replace(URL, " ").matchAll(MD_NAME)) found.add(m[1]);
  return [...found];
}

/** True when `name`, cited from `from`, is a path of the repository (relative to `from`'s folder or to the root). */
export function resolves(from: string, name: string, exists: (path: string) => boolean): boolean {
  const candidates = [posix.normalize(posix.join(posix.dirname(from), name)), posix.normalize(name)];
  return candidates.some((c) => !c.startsWith("../") && exists(c));
}

/** A section cited by title: `docs/<page>.md, <Title>[, <Title>]...` (docs/architecture.md, Documents). */
const SECTION_CITATION = /(?<![\w./-])`?(docs\/[\w-]+\.md)`?,[ \t]+([^;:()|`]*)/g;

/** A comment's text without its markers (`//`, `/*`, `*`, `#`), its lines joined. */
function commentProse(text: string): string {
  return text
    .split("\n")
    .map((l) => l.replace(/^\s*(?:\/\/+|\/\*+|\*+(?!\/)|#)?\s?/, "").replace(/\s*\*+\/\s*$/, ""))
    .join(" ");
}

/** The sections a piece of citing text cites by title, per page: only titles (a capital first), never `<Section>`. */
export function citedSections(text: string, markdown: boolean): { doc: string; title: string }[] {
  const prose = markdown ? text.split("\n").join(" ") : commentProse(text);
  const found: { doc: string; title: string }[] = [];
  for (const m of prose.matchAll(SECTION_CITATION)) {
    const sentence = m[2].split(/\.(?:\s|$)/)[0];
    for (const piece of sentence.split(/,\s*/)) {
      const title = piece.trim();
      if (!/^[A-Z0-9]/.test(title)) break;
      found.push({ doc: m[1], title });
    }
  }
  return found;
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, "")
    .replace(/ /g, "-");
}

/** The headings of a Markdown text (outside code blocks). */
export function headingsOf(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split("\n")) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const m = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (m) out.push(m[1]);
  }
  return out;
}

/** True when `title` names a heading of `markdown`: the whole heading, or its part before a colon. */
export function hasSection(markdown: string, title: string): boolean {
  const wanted = title.toLowerCase();
  return headingsOf(markdown).some((h) => {
    const heading = h.replace(/`/g, "").toLowerCase();
    return heading === wanted || heading.split(":")[0].trim() === wanted;
  });
}

/** The `#anchor` targets of a Markdown text's links, with the file each points into (`""`: the same file). */
export function linkAnchors(markdown: string): { target: string; anchor: string }[] {
  const out: { target: string; anchor: string }[] = [];
  for (const m of markdown.matchAll(MD_LINK)) {
    const hash = m[1].indexOf("#");
    if (hash === -1 || /^[a-z][a-z0-9+.-]*:/i.test(m[1])) continue;
    out.push({ target: decodeURIComponent(m[1].slice(0, hash)), anchor: m[1].slice(hash + 1) });
  }
  return out;
}

const readInRepo = (path: string): string | undefined =>
  existsSync(join(root, path)) ? readFileSync(join(root, path), "utf8") : undefined;

/**
 * What names a missing document, a missing section or anchor of one, or uses private shorthand in
 * `files` (posix paths relative to the root, with their text). `generated` tells paths that a tool
 * writes and git ignores, which are named on purpose but never committed. A cited document's text
 * comes from `files` when it is there, else from `read`.
 */
export function brokenDocReferences(
  files: ReadonlyMap<string, string>,
  exists: (path: string) => boolean,
  generated: (path: string) => boolean = () => false,
  read: (path: string) => string | undefined = readInRepo,
): string[] {
  const out: string[] = [];
  const textOf = (path: string): string | undefined => files.get(path) ?? read(path);
  for (const [file, text] of files) {
    const markdown = fileKind(file, text) === "markdown";
    for (const part of citingText(file, text)) {
      for (const name of citedPaths(part, markdown)) {
        if (resolves(file, name, exists)) continue;
        if (generated(posix.normalize(name)) || generated(posix.normalize(posix.join(posix.dirname(file), name))))
          continue;
        out.push(`${file}: names ${name}, which is not in the repository`);
      }
      for (const { doc, title } of citedSections(part, markdown)) {
        const target = textOf(doc);
        if (target !== undefined && !hasSection(target, title))
          out.push(`${file}: cites section "${title}" of ${doc}, which has no such heading`);
      }
      for (const { pattern, what } of PRIVATE_REFERENCES) {
        const m = pattern.exec(part);
        if (m) out.push(`${file}: "${lineAround(part, m.index)}" uses ${what}`);
      }
    }
    if (!markdown) continue;
    for (const { target, anchor } of linkAnchors(text)) {
      const path = target === "" ? file : posix.normalize(posix.join(posix.dirname(file), target));
      const doc = path.endsWith(".md") ? textOf(path) : undefined;
      if (doc !== undefined && !headingsOf(doc).some((h) => anchorOf(h) === anchor))
        out.push(`${file}: links to #${anchor} of ${path}, which has no such heading`);
    }
  }
  return out;
}

function lineAround(text: string, index: number): string {
  const start = text.lastIndexOf("\n", index) + 1;
  const end = text.indexOf("\n", index);
  return text.slice(start, end === -1 ? undefined : end).trim();
}

/** Folders never read: dependencies, version control, and what tools write (the folders .gitignore names). */
export function ignoredFolders(): string[] {
  const ignored = readFileSync(join(root, ".gitignore"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l.endsWith("/") && !/[*?[!#]/.test(l))
    .map((l) => l.replace(/^\//, ""));
  return [".git/", "node_modules/", ...ignored];
}

/** True for a path inside a folder that tools write and git ignores. */
export function isGenerated(path: string): boolean {
  return ignoredFolders().some((folder) => path.startsWith(folder));
}

/** Names of the files fileKind may accept (files without an extension are read for their `#!` line). */
const READ = /\.(md|ts|tsx|js|mjs|cjs|json|sh|bash|py|ya?ml)$/;

/** Every file of the repository whose comments or text may cite a document. */
export function citingFiles(): Map<string, string> {
  const skip = ignoredFolders();
  const files = new Map<string, string>();
  const walk = (rel: string): void => {
    for (const entry of readdirSync(join(root, rel))) {
      const path = rel === "" ? entry : posix.join(rel, entry);
      if (skip.some((folder) => `${path}/`.startsWith(folder))) continue;
      const stat = statSync(join(root, path));
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && (READ.test(entry) || !entry.includes("."))) {
        const text = readFileSync(join(root, path), "utf8");
        if (fileKind(path, text) !== undefined) files.set(path, text);
      }
    }
  };
  walk("");
  return files;
}

/** True when `path` (relative to the root) is a file or folder of the repository. */
export const pathInRepo = (path: string): boolean => existsSync(join(root, path));
