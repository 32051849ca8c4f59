/** What TAB is completing on a shell line: a service after `n.rpc.`, or a method after `n.rpc.<service>.`. */
export type RpcCompletionTarget =
  | { kind: "service"; base: string; partial: string }
  | { kind: "method"; service: string; base: string; partial: string };

// `n.rpc.` at the end of the line, not part of a longer name (`x.n.rpc.`, `fn.rpc.`); `$` and word characters only,
// since completions are inserted as dotted names.
const SERVICE = /(?:^|[^\w$.])(n\.rpc\.)([\w$]*)$/;
const METHOD = /(?:^|[^\w$.])(n\.rpc\.([\w$]+)\.)([\w$]*)$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** The completion the line asks for, or undefined when it is not an `n.rpc` name (the REPL completes it). */
export function rpcCompletionTarget(line: string): RpcCompletionTarget | undefined {
  const method = METHOD.exec(line);
  if (method) return { kind: "method", service: method[2], base: method[1], partial: method[3] };
  const service = SERVICE.exec(line);
  if (service) return { kind: "service", base: service[1], partial: service[2] };
  return undefined;
}

/**
 * Readline's answer for `target`, given the discovered services and their methods: the full names
 * (`n.rpc.users`, `n.rpc.users.get_user`), sorted, and the text they replace. Names that cannot
 * follow a dot (a service named `my-svc`) are left out: they are reached as `n.rpc["my-svc"]`.
 */
export function rpcCompletions(
  target: RpcCompletionTarget,
  services: ReadonlyMap<string, ReadonlySet<string>>,
): [string[], string] {
  const names = target.kind === "service" ? services.keys() : (services.get(target.service) ?? []);
  const matching = [...names].filter((name) => IDENTIFIER.test(name) && name.startsWith(target.partial)).sort();
  return [matching.map((name) => target.base + name), target.base + target.partial];
}
