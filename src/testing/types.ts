// Names and signatures the test kit takes from a service's type. A container or class whose type is
// not known (`ServiceContainer` without a type argument) accepts any name, as before typing.

/** True when `T` carries nothing to check against (`object`, the default of ServiceContainer). */
export type Untyped<T> = object extends T ? true : false;

/** The property names of a service: what workerFactory and replaceDependencies accept. */
export type PropertyName<T> = Untyped<T> extends true ? string : keyof T & string;

/** The method names of a service: what entrypointHook, entrypointWaiter and restrictEntrypoints accept. */
export type MethodName<T> =
  Untyped<T> extends true
    ? string
    : { [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never }[keyof T] & string;

/** Replacements for some properties of a service, by name. */
export type Injections<T> = { readonly [K in PropertyName<T>]?: unknown };

/** Rejects at compile time the keys of `D` that are not properties of `T`. */
export type NoUnknownKeys<D, T> = { readonly [K in Exclude<keyof D, PropertyName<T>>]: never };
