/**
 * A replay's findings for people and for CI (docs/cassettes.md, Replay): a text report with one line
 * per difference, and JUnit XML with one test case per call.
 */
import { formatDifference } from "./diff";
import type { CallReport, ReplayReport } from "./replay";

const count = (n: number, what: string): string => `${n} ${what}${n === 1 ? "" : "s"}`;

/** `call 3` or `handled event 4`. */
const itemName = (c: CallReport): string => `${c.kind === "handled" ? "handled event" : "call"} ${c.number}`;

/** The text report: a summary line, then each unreadable line and each call that differs with its differences. */
export function formatReport(report: ReplayReport, source: string): string {
  const lines: string[] = [];
  const failed = report.calls.filter((c) => !c.ok);
  const ignored = report.calls.reduce((n, c) => n + c.ignored, 0);
  const handled = report.calls.filter((c) => c.kind === "handled").length;
  lines.push(
    `${source}: ${count(report.calls.length - handled, "call")}` +
      (handled > 0 ? ` and ${count(handled, "handled event")}` : "") +
      ` replayed, ${report.calls.length - failed.length} match, ` +
      `${failed.length} differ` +
      (report.problems.length > 0 ? `, ${count(report.problems.length, "unreadable line")}` : "") +
      (ignored > 0 ? ` (${count(ignored, "difference")} ignored)` : "") +
      (report.eventsNotReplayed > 0 ? `; ${count(report.eventsNotReplayed, "event line")} not replayed` : ""),
  );
  for (const p of report.problems) lines.push(`line ${p.line}: ${p.message}`);
  for (const c of failed) {
    lines.push(`${itemName(c)} ${c.label}:`);
    for (const d of c.differences) lines.push(`  ${formatDifference(d)}`);
  }
  return `${lines.join("\n")}\n`;
}

/** Characters XML 1.0 cannot hold at all (besides tab, line feed and carriage return), and lone surrogates. */
const NOT_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text made safe for XML content and attribute values; characters XML cannot hold become U+FFFD. */
export function escapeXml(text: string): string {
  return text
    .replace(NOT_XML, "\ufffd")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\r/g, "&#13;")
    .replace(/\n/g, "&#10;");
}

/** Escaped for element content, where line breaks stay readable. */
function escapeText(text: string): string {
  return escapeXml(text).replace(/&#10;/g, "\n");
}

const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/**
 * JUnit XML: one `<testcase>` per replayed call (classname `replay.<service>`), failed with its
 * differences as text, and one failed test case per unreadable cassette line.
 */
export function junitXml(report: ReplayReport, source: string): string {
  const cases: string[] = [];
  for (const c of report.calls) {
    const head = `    <testcase classname="${escapeXml(`replay.${c.target.split(".")[0] ?? ""}`)}" name="${escapeXml(
      `${itemName(c)} ${c.label}`,
    )}" time="${seconds(c.durationMs)}"`;
    if (c.ok) {
      cases.push(`${head}/>`);
      continue;
    }
    const text = c.differences.map(formatDifference).join("\n");
    const message = count(c.differences.length, "difference");
    cases.push(`${head}>\n      <failure message="${message}">${escapeText(text)}</failure>\n    </testcase>`);
  }
  for (const p of report.problems) {
    cases.push(
      `    <testcase classname="replay.cassette" name="line ${p.line}" time="0.000">\n` +
        `      <failure message="unreadable cassette line">${escapeText(p.message)}</failure>\n    </testcase>`,
    );
  }
  const tests = report.calls.length + report.problems.length;
  const failures = report.calls.filter((c) => !c.ok).length + report.problems.length;
  const time = seconds(report.calls.reduce((t, c) => t + c.durationMs, 0));
  const name = escapeXml(`cliffracer replay ${source}`);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<testsuites name="${name}" tests="${tests}" failures="${failures}" errors="0" time="${time}">\n` +
    `  <testsuite name="${name}" tests="${tests}" failures="${failures}" errors="0" skipped="0" time="${time}">\n` +
    `${cases.join("\n")}${cases.length > 0 ? "\n" : ""}` +
    `  </testsuite>\n</testsuites>\n`
  );
}
