// What `cliffracer port` and `cliffracer types` know about a Nameko module: read from Python by
// read-module.ts, written out as TypeScript by emit-service.ts and emit-interface.ts.

/** Something the scaffold could not carry over, with where it is in the Python file. */
export interface PortIssue {
  line: number;
  /** `unmapped`: the scaffold needs a hand-made decision there; `warning`: the scaffold is right but incomplete. */
  severity: "unmapped" | "warning";
  message: string;
}

/** A parameter default: the Python text, and its TypeScript literal when it has one. */
export interface DefaultValue {
  python: string;
  ts?: string;
}

/** One parameter of a Python method, `self` left out. */
export interface ParamModel {
  name: string;
  kind: "positional" | "keywordOnly" | "varArgs" | "varKwargs";
  default?: DefaultValue;
  /** The TypeScript type of its annotation; `unknown` when there is none or it does not map. */
  type: string;
}

/** An entrypoint decorator, with its options already in Cliffracer's terms (TypeScript literals). */
export type EntrypointModel =
  | { kind: "rpc"; expectedExceptions: string[]; sensitiveArguments: string[] }
  | {
      kind: "event";
      source: string;
      eventType: string;
      handlerType?: string;
      reliableDelivery?: string;
      requeueOnError?: string;
      expectedExceptions: string[];
    }
  | { kind: "timer"; interval: string; eager?: string; expectedExceptions: string[] }
  | { kind: "http"; method: string; url: string; expectedExceptions: string[] }
  | { kind: "wsRpc"; expectedExceptions: string[] };

/** A method of a service class. */
export interface MethodModel {
  name: string;
  line: number;
  params: ParamModel[];
  /** Python 3.8's `/`: the parameters before it are positional-only. */
  positionalOnly: number;
  returns: string;
  entrypoints: EntrypointModel[];
  /** The method's Python body, dedented, for the comment the scaffold keeps. */
  body: string;
}

/** The dependency providers a port maps; `other` is a custom one, flagged. */
export type DependencyKind =
  "rpcProxy" | "eventDispatcher" | "config" | "databaseSession" | "database" | "redis" | "webSocketHub" | "other";

/** A class attribute holding a dependency provider. */
export interface DependencyModel {
  attr: string;
  kind: DependencyKind;
  /** The provider's first argument as a TypeScript literal (service name, declarative base, Redis key). */
  arg?: string;
  python: string;
  line: number;
}

/** A Nameko service class. */
export interface ServiceModel {
  className: string;
  name: string;
  line: number;
  methods: MethodModel[];
  dependencies: DependencyModel[];
}

/** An exception class of the module (or imported by it), declared in the port under the same exc_path. */
export interface ErrorClassModel {
  name: string;
  /** The TypeScript class it extends: `Exception`, a built-in stand-in, or another class of the module. */
  base: string;
  excPath: string;
  /** Registered for deserialization (`@deserialize_to_instance`/`@remote_error`): callers get the class back. */
  registered: boolean;
  line: number;
}

/** A data shape of the module (dataclass, TypedDict, marshmallow schema) as an interface. */
export interface ShapeModel {
  name: string;
  line: number;
  fields: Array<{ name: string; type: string; optional: boolean }>;
}

/** Everything read from one Python module. */
export interface ModuleModel {
  file: string;
  /** The module's dotted path, as Nameko writes it into `exc_path`. */
  modulePath: string;
  services: ServiceModel[];
  errors: ErrorClassModel[];
  shapes: ShapeModel[];
  issues: PortIssue[];
}
