import { CommandError } from "../src";

/** The Python file does not parse; `line` and `column` are 1-based, as Python reports them. */
export class PythonSyntaxError extends CommandError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    detail: string,
  ) {
    super(`${file}:${line}:${column}: invalid Python syntax: ${detail}`);
    this.name = "PythonSyntaxError";
  }
}

/** The class named after `:` exists but is no Nameko service (no string `name` attribute). */
export class NotANamekoService extends CommandError {
  constructor(file: string, line: number, className: string) {
    super(`${file}:${line}: class ${className} is not a Nameko service: it has no \`name = "..."\` class attribute`);
    this.name = "NotANamekoService";
  }
}

/** The module has no class of that name, or (without `:Class`) no Nameko service at all. */
export class ServiceNotFound extends CommandError {
  constructor(message: string) {
    super(message);
    this.name = "ServiceNotFound";
  }
}
