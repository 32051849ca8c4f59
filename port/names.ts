/** Words JavaScript reserves that Python allows as parameter names. */
const RESERVED = new Set(
  "arguments await case catch const debugger default delete do enum eval export extends false function implements instanceof interface let new null package private protected public static super switch this throw true typeof var void".split(
    " ",
  ),
);

/** The JavaScript name of a Python parameter: the same, unless JavaScript reserves it. */
export function jsName(name: string): string {
  return RESERVED.has(name) ? `${name}_` : name;
}
