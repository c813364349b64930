// Copyright the multiproc authors. MIT license.
/**
 * The parts of the encoded tree (see `codec.ts` for its format) that the
 * "json" and "clone" codecs share: the options, the path of a value that
 * cannot be encoded and its message, what is refused, how an instance finds
 * its class on either side.
 *
 * @module
 */

import { exportOf, importedModules, isRunningMain } from "./import_target.ts";
import { locateClass, locatedExport, sourceHash, type TargetRef } from "./target.ts";
import { type HandleData, type Shareable, toHandle } from "./handles.ts";

/** Options for `encode` and `serialize` (in `codec.ts`). */
export interface EncodeOptions {
  /**
   * Start of the sentence used in error messages, completed by the path and
   * the reason, e.g. `Cannot start process "worker-1" as`.
   */
  context: string;
  /** Name of the root value in error paths, e.g. `"args"` for `args[0].cb`. */
  root: string;
  /**
   * `"json"`: the output must survive `JSON.stringify` and `JSON.parse`.
   * `"wire"`: the output goes through `wire.ts` (a frame), so the bytes of
   * typed arrays and `ArrayBuffer`s are kept as `Uint8Array`s (a copy), not
   * base64. `"clone"`: the output goes through `postMessage`, so values
   * structured clone supports are kept as they are and shared structure is
   * left to it.
   *
   * @default {"json"}
   */
  mode?: "json" | "wire" | "clone";
  /**
   * Where the value goes; passed to each {@linkcode Shareable}.
   *
   * @default {"process"}
   */
  dest?: "process" | "thread";
}

/** Result of `encode` (in `codec.ts`): the tree and what its decoding needs. */
export interface Encoded {
  /** The encoded tree. */
  v: unknown;
  /** Sorted, unique module URLs to import first: those registering the handles' revivers and those exporting the instances' classes. */
  m?: string[];
  /**
   * Set when `v` is an object encoded in "clone" mode: its shared structure
   * is native (no `ref` tags) and natively cloneable values are kept.
   */
  c?: true;
  /**
   * Set when `v` is the decoded value itself: bytes whose value needs no
   * module are decoded as they are read (see `unpackEncoded` in `codec.ts`).
   */
  d?: true;
}

/** A node of the tree that is not JSON-native: `$t` is its tag. */
export type Tagged = { $t: string; [key: string]: unknown };

/** A step from a container to a child, recorded while an error unwinds. */
export type Segment =
  | number // array index
  | string // object key
  | { get: unknown } // Map value with a primitive key
  | { keys: number } // nth Map key
  | { values: number } // nth Map value with an object key
  | { items: number } // nth Set item
  | { prop: "cause" | "errors" }; // error field

/** Internal signal for a value that cannot be encoded; becomes a TypeError. */
export class Unserializable {
  path: Segment[] = [];
  constructor(readonly reason: string, readonly cause?: unknown) {}
}

/**
 * How many levels of objects a value may nest: Python's pickle stops at about
 * the same depth (its recursion limit), and every encoder and decoder on the
 * way (this one, JSON, structured clone) recurses, so a deeper value would
 * overflow the stack somewhere.
 */
export const MAX_DEPTH = 1000;

export const TOO_DEEP =
  `received a value nested more than ${MAX_DEPTH} levels deep: flatten it, or send it in parts`;

/** Path segments shown in a message; a longer path (a value nested too deeply) is cut. */
export const MAX_PATH_SEGMENTS = 12;

export function isJsonNumber(n: number): boolean {
  // Finite and not -0: `n - n` is NaN for NaN and infinities.
  return n - n === 0 && (n !== 0 || 1 / n > 0);
}

export const objectProto = Object.prototype;
export const hasOwn = Object.hasOwn as (o: object, k: PropertyKey) => boolean;
export const propertyIsEnumerable = Function.prototype.call.bind(
  objectProto.propertyIsEnumerable,
) as (o: object, k: PropertyKey) => boolean;

export function isPlain(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === objectProto || proto === null;
}

export const isError: (v: unknown) => v is Error = typeof Error.isError === "function"
  ? Error.isError
  : (v: unknown): v is Error => v instanceof Error;

export function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") {
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  } else {
    o[k] = v;
  }
}

export function defineHidden(o: object, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: false, configurable: true });
}

/** Defines a field of a revived instance (an assignment could run a setter of its class). */
export function defineField(o: object, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/** The reference of the class of `value` (not a plain object), or the reason it has none. */
export function classRef(value: object): TargetRef {
  const ref = locateClass(Object.getPrototypeOf(value), importedModules());
  if (typeof ref === "string") throw new Unserializable(`received ${ref}`);
  return ref;
}

/**
 * Classes whose instances must not be copied as plain objects: their state is
 * not in own enumerable properties, so a copy would silently lose it (the
 * platform classes among them make structured clone throw too).
 */
export const rejected: [new (...args: never[]) => unknown, string][] = [];
for (
  const name of [
    "Promise",
    "WeakMap",
    "WeakSet",
    "WeakRef",
    "FinalizationRegistry",
    "Symbol",
    "Blob", // kept as it is in "clone" mode, checked before this list
    "ReadableStream",
    "WritableStream",
    "TransformStream",
    "MessagePort",
    "Worker",
    "AbortSignal",
    "URL",
    "URLSearchParams",
    "Headers",
    "Request",
    "Response",
  ]
) {
  const ctor = (globalThis as Record<string, unknown>)[name];
  if (typeof ctor === "function") {
    rejected.push([ctor as new () => unknown, name === "Symbol" ? "Symbol object" : name]);
  }
}

export function rejectedKind(o: object): string | undefined {
  for (const [ctor, name] of rejected) if (o instanceof ctor) return name;
  return undefined;
}

// Absent where cross-origin isolation is off (browsers); always there in Deno.
export const SharedArrayBufferCtor =
  (globalThis as { SharedArrayBuffer?: typeof SharedArrayBuffer })
    .SharedArrayBuffer;

export function isShared(buffer: ArrayBufferLike): boolean {
  return SharedArrayBufferCtor !== undefined && buffer instanceof SharedArrayBufferCtor;
}

export function handleData(value: Shareable, dest: "process" | "thread"): HandleData {
  let data: HandleData;
  try {
    data = value[toHandle](dest);
  } catch (e) {
    throw new Unserializable(isError(e) ? e.message : describe(e), e);
  }
  if (
    typeof data !== "object" || data === null || typeof data.kind !== "string" ||
    typeof data.module !== "string"
  ) {
    throw new Unserializable("its [toHandle]() did not return { kind, module } strings");
  }
  return data;
}

export function unserializableKind(value: unknown): string {
  if (typeof value === "function") return "function";
  if (typeof value === "symbol") return "symbol";
  return typeof value;
}

/** Turns an internal {@linkcode Unserializable} into the public TypeError. */
export function fail(u: Unserializable, options: EncodeOptions): never {
  throw new TypeError(
    `${options.context} ${
      formatPath(options.root, u.path.reverse())
    } is not serializable: ${u.reason}`,
    u.cause === undefined ? undefined : { cause: u.cause },
  );
}

export const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

export function formatPrimitive(k: unknown): string {
  if (typeof k === "string") return JSON.stringify(k);
  if (typeof k === "bigint") return `${k}n`;
  if (Object.is(k, -0)) return "-0";
  return String(k);
}

export function formatPath(root: string, path: Segment[]): string {
  let s = root;
  for (const seg of path.slice(0, MAX_PATH_SEGMENTS)) {
    if (typeof seg === "number") s += `[${seg}]`;
    else if (typeof seg === "string") {
      s += IDENTIFIER.test(seg) ? `.${seg}` : `[${JSON.stringify(seg)}]`;
    } else if ("get" in seg) s += `.get(${formatPrimitive(seg.get)})`;
    else if ("keys" in seg) s = `[...${s}.keys()][${seg.keys}]`;
    else if ("values" in seg) s = `[...${s}.values()][${seg.values}]`;
    else if ("items" in seg) s = `[...${s}][${seg.items}]`;
    else s += `.${seg.prop}`;
  }
  return path.length > MAX_PATH_SEGMENTS ? `${s}…` : s;
}

export function isPrimitiveKey(k: unknown): boolean {
  return k === null || (typeof k !== "object" && typeof k !== "function");
}

/** Adds `seg` to an unwinding {@linkcode Unserializable}; rethrows anything. */
export function addSegment(e: unknown, seg: Segment): never {
  if (e instanceof Unserializable) e.path.push(seg);
  throw e;
}

export function describe(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

/** Namespaces of the modules `decode` (in `codec.ts`) has imported, so it imports each once. */
export const namespaces = new Map<string, Record<string, unknown>>();

/** The class an instance is revived as: its module was imported by `decode` (in `codec.ts`). */
export function classOf(ref: TargetRef): { prototype: object } {
  const module = namespaces.get(ref.module);
  if (module === undefined) {
    const known = locatedExport(ref);
    if (typeof known === "function" && sourceHash(known) === ref.hash) {
      return known as unknown as { prototype: object };
    }
    if (isRunningMain(ref.module)) {
      throw new Error(
        `Cannot decode an instance of class "${ref.export}" as it is defined in this program's ` +
          `main module ${ref.module}, which is still running and cannot be imported before it ` +
          `ends: define the class in a module of its own and import it from there`,
      );
    }
    throw new Error(
      `Cannot decode an instance of class "${ref.export}" as its module ${ref.module} is not imported: use decode()`,
    );
  }
  return exportOf(
    module,
    ref,
    `Cannot decode an instance of class "${ref.export}"`,
    "class",
  ) as unknown as { prototype: object };
}

export function malformed(what: string): TypeError {
  return new TypeError(`Cannot decode value as ${what}`);
}
