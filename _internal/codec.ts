// Copyright the multiproc authors. MIT license.
/**
 * Encoding of values that cross a process or thread boundary.
 *
 * Deno cannot send structured-clone data to another process without
 * `node:v8`, which is slow, so values are encoded into a JSON-compatible tree
 * that mimics the structured clone algorithm. JSON-native values (strings,
 * booleans, `null`, finite numbers other than `-0`, arrays and plain objects)
 * are emitted as they are, so the common queue item costs one walk and no
 * wrapping. Everything else becomes a tagged object `{ $t: tag, ... }`:
 *
 * | Tag   | Value                                   | Fields                                     |
 * | ----- | --------------------------------------- | ------------------------------------------ |
 * | `u`   | `undefined`                             |                                            |
 * | `n`   | `NaN`, `Infinity`, `-Infinity`, `-0`    | `v`: the number as a string                |
 * | `bi`  | `bigint`                                | `v`: decimal string                        |
 * | `d`   | `Date`                                  | `v`: time value, `null` for NaN            |
 * | `re`  | `RegExp`                                | `source`, `flags`                          |
 * | `map` | `Map`                                   | `v`: `[[key, value], ...]`                 |
 * | `set` | `Set`                                   | `v`: `[item, ...]`                         |
 * | `ab`  | `ArrayBuffer`                           | `v`: base64, `x`: max length if resizable  |
 * | `ta`  | typed arrays and `DataView`             | `c`: class name, `v`: base64 of its bytes  |
 * | `err` | `Error` and subclasses                  | `name`, `message`, `stack`, `cause`,       |
 * |       |                                         | `errors` (AggregateError), `props`         |
 * | `box` | `Object(1)`, `Object("s")`, ...         | `v`: the encoded primitive                 |
 * | `h`   | a {@linkcode Shareable} (live handle)   | `v`: its {@linkcode HandleData}            |
 * | `cls` | an instance of an exported class        | `r`: the class's module URL, export name   |
 * |       |                                         | and source hash; `v`: its own fields       |
 * | `o`   | a plain object with an own `$t` key     | `v`: the object, its keys as they are      |
 * | `ref` | an object met before (shared or cyclic) | `i`: its number                            |
 *
 * A class instance is revived as an instance of the same class, found on the
 * other side by module URL and export name as a target is (pickle finds a
 * class by module and name): its own enumerable fields are copied and its
 * constructor does not run. An instance of a class that cannot be located
 * that way (not exported, anonymous, built in) is refused, never copied as a
 * plain object without its methods. Values nested more than
 * {@linkcode MAX_DEPTH} levels deep are refused too (pickle stops at about
 * the same depth), with their path, instead of overflowing the stack.
 *
 * Every object is numbered in depth-first encounter order, by the encoder and
 * the decoder alike, so a repeated object is a `ref` to its number and needs
 * no look-up table in the decoder.
 *
 * In "clone" mode the tree goes through `postMessage` instead, so values that
 * structured clone supports stay as they are; only containers are copied, to
 * replace handles, escape `$t` keys, encode errors (structured clone drops
 * custom error names) and reject what cannot be cloned.
 *
 * Paths in error messages are JavaScript expressions rooted at
 * {@linkcode EncodeOptions.root}: `args[0]`, `args[1].user.name`,
 * `args[2]["a b"]`, `args[3].get("key")` (a Map value with a primitive key),
 * `[...args[3].keys()][1]` / `[...args[3].values()][1]` (the second Map key or
 * value), `[...args[4]][0]` (the first Set item), `args[5].cause`.
 *
 * @module
 */

import { exportOf, importedModules, importModule, isRunningMain } from "./import_target.ts";
import { locateClass, locatedExport, sourceHash, type TargetRef } from "./target.ts";
import { pack, unpack } from "./wire.ts";

/**
 * Symbol a shared primitive implements to cross a boundary as a live handle.
 *
 * The method returns plain JSON-compatible {@linkcode HandleData}; the
 * receiving side turns it back into a live object with the reviver registered
 * for its `kind` (see {@linkcode registerReviver}).
 *
 * @example How a lock crosses to a thread
 * ```ts
 * import { Lock, toHandle } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const lock = new Lock();
 * const data = lock[toHandle]("thread"); // what a Thread's args carry instead of a copy
 * equal(JSON.parse(JSON.stringify(data)).kind, data.kind); // plain JSON-compatible data
 * ```
 */
export const toHandle: unique symbol = Symbol.for("multiproc.toHandle");

/**
 * Plain, JSON-compatible description of a live handle.
 *
 * @example
 * ```ts
 * import { type HandleData, Queue, toHandle } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const q = new Queue();
 * const data: HandleData = q[toHandle]("process");
 * equal(typeof data.kind, "string");
 * equal(new URL(data.module).protocol, "file:"); // the child imports it to revive the queue
 * ```
 */
export interface HandleData {
  /** Reviver key, as passed to {@linkcode registerReviver}. */
  kind: string;
  /** URL of the module that registers the reviver for `kind` when imported. */
  module: string;
  /** Anything else the reviver needs, JSON-compatible. */
  [key: string]: unknown;
}

/**
 * An object that crosses a boundary as a live handle instead of a copy.
 *
 * @example
 * ```ts
 * import { Event, Lock, Queue, type Shareable, toHandle } from "@multiproc/multiproc";
 * import { ok } from "node:assert/strict";
 *
 * const shared: Shareable[] = [new Lock(), new Event(), new Queue()];
 * ok(shared.every((s) => typeof s[toHandle] === "function"));
 * ```
 */
export interface Shareable {
  /**
   * Describes this object for the receiving side.
   *
   * @param dest Whether the value goes to another process (`"process"`) or to
   * a worker thread in the same process (`"thread"`).
   * @returns Plain data the reviver for its `kind` turns back into an object.
   * @throws {Error} If the object cannot be shared with `dest`.
   */
  [toHandle](dest: "process" | "thread"): HandleData;
}

/** Options for {@linkcode encode} and {@linkcode serialize}. */
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

/** Result of {@linkcode encode}: the tree and what its decoding needs. */
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
}

/** Plain, JSON-compatible description of an error, see {@linkcode errorToData}. */
export interface ErrorData {
  /** Error name, e.g. `"TypeError"` or a custom class name. */
  name: string;
  /** Error message. */
  message: string;
  /** Stack trace as printed where the error was thrown. */
  stack?: string;
  /** The encoded `cause`, present when the error had one. */
  cause?: unknown;
  /** Own enumerable properties with JSON-native primitive values, e.g. `code`. */
  props?: Record<string, string | number | boolean | null>;
}

const revivers = new Map<string, (data: HandleData) => unknown>();

/**
 * Registers how handles of a kind are turned back into live objects.
 *
 * A module that defines a {@linkcode Shareable} calls this at load time; a
 * later registration for the same kind replaces the earlier one.
 *
 * @param kind The `kind` of the handle data.
 * @param revive Builds the live object from the handle data.
 * @throws {TypeError} If `kind` is not a string or `revive` not a function.
 */
export function registerReviver(kind: string, revive: (data: HandleData) => unknown): void {
  if (typeof kind !== "string") {
    throw new TypeError(
      `Cannot register a reviver as its kind is not a string: received ${typeof kind}`,
    );
  }
  if (typeof revive !== "function") {
    throw new TypeError(`Cannot register a reviver for "${kind}" as it is not a function`);
  }
  revivers.set(kind, revive);
}

/**
 * Encodes a value so it can cross a process (or thread) boundary.
 *
 * - Shared references and cycles are preserved.
 * - A {@linkcode Shareable} becomes a handle. An instance of an exported
 *   class keeps its class (located by module URL and export name) and its own
 *   enumerable properties; an instance of a class that cannot be located is
 *   rejected.
 * - Functions, symbols, promises, weak collections, (in "json" mode)
 *   `SharedArrayBuffer`s and values nested more than {@linkcode MAX_DEPTH}
 *   levels deep are rejected.
 *
 * @param value The value to encode.
 * @param options Error message wording, mode and destination.
 * @returns The encoded tree and the modules its handles need.
 * @throws {TypeError} If a part of `value` is not serializable; the message
 * names its path and what was received.
 */
export function encode(value: unknown, options: EncodeOptions): Encoded {
  // Hot path: JSON-native primitives need no walk.
  if (
    typeof value === "string" || typeof value === "boolean" || value === null ||
    (typeof value === "number" && isJsonNumber(value))
  ) {
    return { v: value };
  }
  return options.mode === "clone"
    ? new CloneEncoder(options.dest ?? "process").run(value, options)
    : new JsonEncoder(options.dest ?? "process", options.mode === "wire" ? "copy" : "base64")
      .run(value, options);
}

/** Namespaces of the modules {@linkcode decode} has imported, so it imports each once. */
const namespaces = new Map<string, Record<string, unknown>>();

/**
 * Decodes the output of {@linkcode encode}, importing the modules its handles
 * and class instances need first.
 *
 * @param enc The encoded value, possibly after `JSON.parse` or `postMessage`.
 * @returns The decoded value.
 * @throws {Error} If a module cannot be imported or a handle kind has no
 * reviver after importing them.
 * @throws {TypeError} If an instance's class is not exported where the sender found it.
 */
export async function decode(enc: Encoded): Promise<unknown> {
  const m = enc.m;
  if (m !== undefined) {
    for (const url of m) {
      // The program's own main module, still running, cannot be imported (it would wait for its
      // own end): its classes are found among those this process located (see classOf).
      if (!namespaces.has(url) && !isRunningMain(url)) {
        namespaces.set(url, await importModule(url));
      }
    }
  }
  return decodeSync(enc);
}

/**
 * Decodes the output of {@linkcode encode} without importing modules.
 *
 * @param enc The encoded value, possibly after `JSON.parse` or `postMessage`.
 * @returns The decoded value.
 * @throws {Error} If a handle kind has no reviver registered, or an
 * instance's class module was not imported by {@linkcode decode}.
 * @throws {TypeError} If the tree is malformed.
 */
export function decodeSync(enc: Encoded): unknown {
  const v = enc.v;
  if (typeof v !== "object" || v === null) return v;
  return enc.c ? new CloneDecoder().dec(v) : new JsonDecoder().dec(v);
}

/**
 * Encodes a value as JSON text, always in "json" mode.
 *
 * @param value The value to encode.
 * @param options Error message wording and destination; `mode` is ignored.
 * @returns JSON text for {@linkcode deserializeSync} (or `JSON.parse` and
 * {@linkcode decode}).
 * @throws {TypeError} If a part of `value` is not serializable.
 */
export function serialize(value: unknown, options: EncodeOptions): string {
  if (
    typeof value === "string" || typeof value === "boolean" || value === null ||
    (typeof value === "number" && isJsonNumber(value))
  ) {
    return JSON.stringify({ v: value });
  }
  return JSON.stringify(new JsonEncoder(options.dest ?? "process").run(value, options));
}

/**
 * Decodes JSON text made by {@linkcode serialize}.
 *
 * @param text The JSON text.
 * @returns The decoded value.
 * @throws {SyntaxError} If `text` is not JSON.
 * @throws {Error} If a handle kind has no reviver registered.
 */
export function deserializeSync(text: string): unknown {
  return decodeSync(JSON.parse(text));
}

/**
 * Encodes a value as bytes (the wire format of `wire.ts`): how a queue item
 * crosses and waits in a hub.
 *
 * @param value The value to encode.
 * @param options Error message wording and destination; `mode` is ignored.
 * @returns The bytes, for {@linkcode decodeBytes}.
 * @throws {TypeError} If a part of `value` is not serializable.
 */
export function encodeBytes(value: unknown, options: EncodeOptions): Uint8Array {
  if (
    typeof value === "string" || typeof value === "boolean" || value === null ||
    (typeof value === "number" && isJsonNumber(value))
  ) {
    return pack({ v: value });
  }
  return pack(new JsonEncoder(options.dest ?? "process", "view").run(value, options));
}

/**
 * Decodes bytes made by {@linkcode encodeBytes} without importing modules
 * (see {@linkcode decodeSync}).
 *
 * @param bytes The bytes.
 * @returns The decoded value.
 * @throws {Error} If the bytes are malformed, or a module its handles or
 *   classes need was not imported.
 */
export function decodeBytesSync(bytes: Uint8Array): unknown {
  const enc = unpack(bytes) as Encoded;
  if (typeof enc !== "object" || enc === null) throw malformed("encoded value");
  return decodeSync(enc);
}

/**
 * Decodes bytes made by {@linkcode encodeBytes}, importing the modules its
 * handles and class instances need first.
 *
 * @param bytes The bytes.
 * @returns The decoded value.
 * @throws {Error} If the bytes are malformed or a module cannot be imported.
 */
export async function decodeBytes(bytes: Uint8Array): Promise<unknown> {
  const enc = unpack(bytes) as Encoded;
  if (typeof enc !== "object" || enc === null) throw malformed("encoded value");
  return enc.m ? await decode(enc) : decodeSync(enc);
}

/**
 * Describes an error (or any thrown value) as plain JSON-compatible data, to
 * report it to another process. Never throws.
 *
 * - `cause` is encoded like any value; if it is not serializable it is
 *   replaced by its description as a string.
 * - Own enumerable properties with string, finite number, boolean or `null`
 *   values (e.g. `code`) are kept in `props`.
 * - A thrown value that is not an error becomes `{ name: "Error", message }`
 *   with `message` its string form.
 *
 * @param e The thrown value.
 * @returns The error's name, message, stack and cause.
 */
export function errorToData(e: unknown): ErrorData {
  if (!isError(e)) return { name: "Error", message: describe(e) };
  try {
    return stripTag(new JsonEncoder("process").encodeError(e, true));
  } catch {
    try {
      const err = new JsonEncoder("process").encodeError(e, false);
      if (hasOwn(e, "cause")) err.cause = describe(e.cause);
      return stripTag(err);
    } catch {
      return { name: "Error", message: describe(e) };
    }
  }
}

/**
 * Rebuilds an error described by {@linkcode errorToData}.
 *
 * The result is an instance of the built-in class named by `name` (`TypeError`,
 * `RangeError`, ...), otherwise an `Error` with `name` set. Its `stack` is the
 * remote stack, or `name: message` if there was none. A cause that cannot be
 * decoded (e.g. a handle without reviver) is dropped.
 *
 * @param d The error data.
 * @returns The error.
 */
export function errorFromData(d: ErrorData): Error {
  const node: Record<string, unknown> = { ...d, $t: "err" };
  try {
    return new JsonDecoder().dec(node) as Error;
  } catch {
    delete node.cause;
    return new JsonDecoder().dec(node) as Error;
  }
}

// ---------------------------------------------------------------------------
// Encoding

type Tagged = { $t: string; [key: string]: unknown };

/** A step from a container to a child, recorded while an error unwinds. */
type Segment =
  | number // array index
  | string // object key
  | { get: unknown } // Map value with a primitive key
  | { keys: number } // nth Map key
  | { values: number } // nth Map value with an object key
  | { items: number } // nth Set item
  | { prop: "cause" | "errors" }; // error field

/** Internal signal for a value that cannot be encoded; becomes a TypeError. */
class Unserializable {
  path: Segment[] = [];
  constructor(readonly reason: string, readonly cause?: unknown) {}
}

const UNDEFINED: Tagged = { $t: "u" };

/**
 * How many levels of objects a value may nest: Python's pickle stops at about
 * the same depth (its recursion limit), and every encoder and decoder on the
 * way (this one, JSON, structured clone) recurses, so a deeper value would
 * overflow the stack somewhere.
 */
export const MAX_DEPTH = 1000;

const TOO_DEEP =
  `received a value nested more than ${MAX_DEPTH} levels deep: flatten it, or send it in parts`;

/** Path segments shown in a message; a longer path (a value nested too deeply) is cut. */
const MAX_PATH_SEGMENTS = 12;

function isJsonNumber(n: number): boolean {
  // Finite and not -0: `n - n` is NaN for NaN and infinities.
  return n - n === 0 && (n !== 0 || 1 / n > 0);
}

function encodeNumber(n: number): unknown {
  if (isJsonNumber(n)) return n;
  return { $t: "n", v: n === 0 ? "-0" : String(n) };
}

const objectProto = Object.prototype;
const hasOwn = Object.hasOwn as (o: object, k: PropertyKey) => boolean;
const propertyIsEnumerable = Function.prototype.call.bind(
  objectProto.propertyIsEnumerable,
) as (o: object, k: PropertyKey) => boolean;

function isPlain(o: object): boolean {
  const proto = Object.getPrototypeOf(o);
  return proto === objectProto || proto === null;
}

const isError: (v: unknown) => v is Error = typeof Error.isError === "function"
  ? Error.isError
  : (v: unknown): v is Error => v instanceof Error;

function setKey(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === "__proto__") {
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  } else {
    o[k] = v;
  }
}

function defineHidden(o: object, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: false, configurable: true });
}

/** Defines a field of a revived instance (an assignment could run a setter of its class). */
function defineField(o: object, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/** The reference of the class of `value` (not a plain object), or the reason it has none. */
function classRef(value: object): TargetRef {
  const ref = locateClass(Object.getPrototypeOf(value), importedModules());
  if (typeof ref === "string") throw new Unserializable(`received ${ref}`);
  return ref;
}

/**
 * Classes whose instances must not be copied as plain objects: their state is
 * not in own enumerable properties, so a copy would silently lose it (the
 * platform classes among them make structured clone throw too).
 */
const rejected: [new (...args: never[]) => unknown, string][] = [];
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

function rejectedKind(o: object): string | undefined {
  for (const [ctor, name] of rejected) if (o instanceof ctor) return name;
  return undefined;
}

// Absent where cross-origin isolation is off (browsers); always there in Deno.
const SharedArrayBufferCtor = (globalThis as { SharedArrayBuffer?: typeof SharedArrayBuffer })
  .SharedArrayBuffer;

function isShared(buffer: ArrayBufferLike): boolean {
  return SharedArrayBufferCtor !== undefined && buffer instanceof SharedArrayBufferCtor;
}

const NOT_SHAREABLE = "which cannot be shared with another process";

function handleData(value: Shareable, dest: "process" | "thread"): HandleData {
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

function isShareable(o: object): o is Shareable {
  return typeof (o as Partial<Shareable>)[toHandle] === "function";
}

function unserializableKind(value: unknown): string {
  if (typeof value === "function") return "function";
  if (typeof value === "symbol") return "symbol";
  return typeof value;
}

/** Turns an internal {@linkcode Unserializable} into the public TypeError. */
function fail(u: Unserializable, options: EncodeOptions): never {
  throw new TypeError(
    `${options.context} ${
      formatPath(options.root, u.path.reverse())
    } is not serializable: ${u.reason}`,
    u.cause === undefined ? undefined : { cause: u.cause },
  );
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function formatPrimitive(k: unknown): string {
  if (typeof k === "string") return JSON.stringify(k);
  if (typeof k === "bigint") return `${k}n`;
  if (Object.is(k, -0)) return "-0";
  return String(k);
}

function formatPath(root: string, path: Segment[]): string {
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

function isPrimitiveKey(k: unknown): boolean {
  return k === null || (typeof k !== "object" && typeof k !== "function");
}

/** Adds `seg` to an unwinding {@linkcode Unserializable}; rethrows anything. */
function addSegment(e: unknown, seg: Segment): never {
  if (e instanceof Unserializable) e.path.push(seg);
  throw e;
}

/** Primitive error fields worth keeping beyond name, message, stack, cause. */
function errorProps(e: Error): ErrorData["props"] {
  let props: ErrorData["props"];
  for (const k of Object.keys(e)) {
    if (k === "name" || k === "message" || k === "stack" || k === "cause") continue;
    const v = (e as unknown as Record<string, unknown>)[k];
    if (
      typeof v === "string" || typeof v === "boolean" || v === null ||
      (typeof v === "number" && isJsonNumber(v))
    ) {
      props ??= {};
      setKey(props, k, v);
    }
  }
  return props;
}

function stripTag(t: Tagged): ErrorData {
  const { $t: _, ...data } = t;
  return data as unknown as ErrorData;
}

function describe(v: unknown): string {
  try {
    return String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}

// Base64, with the TC39 methods when present (Deno) and a fallback (Node).
const hasToBase64 = typeof Uint8Array.prototype.toBase64 === "function";
const hasFromBase64 = typeof Uint8Array.fromBase64 === "function";

function toBase64(bytes: Uint8Array): string {
  if (hasToBase64) return bytes.toBase64();
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  }
  return btoa(s);
}

function fromBase64(s: string): Uint8Array<ArrayBuffer> {
  if (hasFromBase64) return Uint8Array.fromBase64(s);
  const bin = atob(s);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** The bytes of a `ta`/`ab` node: carried as they are (wire mode) or in base64 (JSON). */
function fromBytes(v: unknown): Uint8Array<ArrayBuffer> {
  if (typeof v === "string") return fromBase64(v);
  if (v instanceof Uint8Array) {
    // Its own buffer, exactly (the wire reader hands out copies; postMessage, clones).
    return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength &&
        v.buffer instanceof ArrayBuffer
      ? v as Uint8Array<ArrayBuffer>
      : v.slice() as Uint8Array<ArrayBuffer>;
  }
  throw malformed("its bytes are neither base64 nor a Uint8Array");
}

function viewBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get!;

/** Typed array class name, robust to subclasses (reads the internal slot). */
function viewClass(view: ArrayBufferView): string {
  return view instanceof DataView ? "DataView" : typedArrayTag.call(view) as string;
}

/** Walks a value into a JSON-compatible tree, see the module docs. */
class JsonEncoder {
  #dest: "process" | "thread";
  #seen = new Map<object, number>();
  #modules: Set<string> | undefined;
  #depth = 0;

  /**
   * How bytes are carried: in base64 (the tree goes through JSON), as a copy
   * (it goes through `wire.ts` later), or as a view of the value's own bytes
   * (it is packed before the caller returns).
   */
  #bytesAs: "base64" | "copy" | "view";

  constructor(dest: "process" | "thread", bytesAs: "base64" | "copy" | "view" = "base64") {
    this.#dest = dest;
    this.#bytesAs = bytesAs;
  }

  #bytes(bytes: Uint8Array): Uint8Array | string {
    if (this.#bytesAs === "base64") return toBase64(bytes);
    return this.#bytesAs === "copy" ? bytes.slice() : bytes;
  }

  run(value: unknown, options: EncodeOptions): Encoded {
    let v: unknown;
    try {
      v = this.#enc(value);
    } catch (e) {
      if (e instanceof Unserializable) fail(e, options);
      throw e;
    }
    return this.#modules === undefined ? { v } : { v, m: [...this.#modules].sort() };
  }

  #enc(value: unknown): unknown {
    switch (typeof value) {
      case "string":
      case "boolean":
        return value;
      case "number":
        return encodeNumber(value);
      case "undefined":
        return UNDEFINED;
      case "bigint":
        return { $t: "bi", v: value.toString() };
      case "object": {
        if (value === null) return null;
        // Not restored when an error unwinds: the encoder is not used after one.
        if (++this.#depth > MAX_DEPTH) throw new Unserializable(TOO_DEEP);
        const out = this.#object(value);
        this.#depth--;
        return out;
      }
      default:
        throw new Unserializable(`received ${unserializableKind(value)}`);
    }
  }

  #object(value: object): unknown {
    const seen = this.#seen;
    const id = seen.get(value);
    if (id !== undefined) return { $t: "ref", i: id };
    seen.set(value, seen.size);

    if (isShareable(value)) {
      const data = handleData(value, this.#dest);
      (this.#modules ??= new Set()).add(data.module);
      return { $t: "h", v: data };
    }
    if (Array.isArray(value)) return this.#array(value);
    if (isPlain(value)) return this.#plain(value);
    if (value instanceof Date) {
      const t = value.getTime();
      return { $t: "d", v: t === t ? t : null };
    }
    if (value instanceof RegExp) return { $t: "re", source: value.source, flags: value.flags };
    if (value instanceof Map) return this.#map(value);
    if (value instanceof Set) return this.#set(value);
    if (value instanceof ArrayBuffer) {
      const out: Tagged = { $t: "ab", v: this.#bytes(new Uint8Array(value)) };
      if (value.resizable) out.x = value.maxByteLength;
      return out;
    }
    if (ArrayBuffer.isView(value)) {
      const c = viewClass(value);
      if (isShared(value.buffer)) {
        throw new Unserializable(`received ${c} over a SharedArrayBuffer, ${NOT_SHAREABLE}`);
      }
      return { $t: "ta", c, v: this.#bytes(viewBytes(value)) };
    }
    if (isShared(value as ArrayBufferLike)) {
      throw new Unserializable(`received SharedArrayBuffer, ${NOT_SHAREABLE}`);
    }
    if (isError(value)) return this.encodeError(value, true);
    if (
      value instanceof Number || value instanceof String || value instanceof Boolean ||
      value instanceof BigInt
    ) {
      return { $t: "box", v: this.#enc(value.valueOf()) };
    }
    const kind = rejectedKind(value);
    if (kind !== undefined) throw new Unserializable(`received ${kind}`);
    const r = classRef(value);
    (this.#modules ??= new Set()).add(r.module);
    return { $t: "cls", r, v: this.#fields(value) };
  }

  #array(value: unknown[]): unknown[] {
    const n = value.length;
    const out = new Array(n);
    let i = 0;
    try {
      for (; i < n; i++) out[i] = this.#enc(value[i]);
    } catch (e) {
      addSegment(e, i);
    }
    return out;
  }

  #plain(value: object): unknown {
    const out = this.#fields(value);
    // Encoded values are never `undefined`: this is "has an own `$t` key", cheaply.
    return out.$t !== undefined ? { $t: "o", v: out } : out;
  }

  /** The own enumerable properties of `value`, encoded. */
  #fields(value: object): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    let k = "";
    try {
      for (k of Object.keys(value)) {
        setKey(out, k, this.#enc((value as Record<string, unknown>)[k]));
      }
    } catch (e) {
      addSegment(e, k);
    }
    return out;
  }

  #map(value: Map<unknown, unknown>): Tagged {
    const entries: unknown[] = [];
    let i = 0;
    for (const [k, v] of value) {
      let ek: unknown;
      try {
        ek = this.#enc(k);
      } catch (e) {
        addSegment(e, { keys: i });
      }
      try {
        entries.push([ek, this.#enc(v)]);
      } catch (e) {
        addSegment(e, isPrimitiveKey(k) ? { get: k } : { values: i });
      }
      i++;
    }
    return { $t: "map", v: entries };
  }

  #set(value: Set<unknown>): Tagged {
    const items: unknown[] = [];
    let i = 0;
    try {
      for (const v of value) {
        items.push(this.#enc(v));
        i++;
      }
    } catch (e) {
      addSegment(e, { items: i });
    }
    return { $t: "set", v: items };
  }

  /**
   * Encodes an error already numbered (or the root of its own tree).
   *
   * @param withCause Whether to encode `cause` and `errors` (off for the
   * fallback of {@linkcode errorToData}).
   */
  encodeError(e: Error, withCause: boolean): Tagged {
    if (!this.#seen.has(e)) this.#seen.set(e, this.#seen.size);
    const out: Tagged = { $t: "err", name: describe(e.name), message: describe(e.message) };
    if (typeof e.stack === "string") out.stack = e.stack;
    if (withCause) {
      if (hasOwn(e, "cause")) {
        try {
          out.cause = this.#enc(e.cause);
        } catch (err) {
          addSegment(err, { prop: "cause" });
        }
      }
      if (e instanceof AggregateError && Array.isArray(e.errors)) {
        try {
          out.errors = this.#enc(e.errors);
        } catch (err) {
          addSegment(err, { prop: "errors" });
        }
      }
    }
    const props = errorProps(e);
    if (props !== undefined) out.props = props;
    return out;
  }
}

/**
 * Copies the containers of a value for `postMessage`, replacing handles,
 * escaping `$t` keys and encoding errors; other values are kept as they are.
 */
class CloneEncoder {
  #dest: "process" | "thread";
  #copies = new Map<object, unknown>();
  #modules: Set<string> | undefined;
  #depth = 0;

  constructor(dest: "process" | "thread") {
    this.#dest = dest;
  }

  run(value: unknown, options: EncodeOptions): Encoded {
    let v: unknown;
    try {
      v = this.#enc(value);
    } catch (e) {
      if (e instanceof Unserializable) fail(e, options);
      throw e;
    }
    return this.#modules === undefined ? { v, c: true } : {
      v,
      m: [...this.#modules].sort(),
      c: true,
    };
  }

  #enc(value: unknown): unknown {
    if (typeof value === "object") {
      if (value === null) return null;
      // Not restored when an error unwinds: the encoder is not used after one.
      if (++this.#depth > MAX_DEPTH) throw new Unserializable(TOO_DEEP);
      const out = this.#object(value);
      this.#depth--;
      return out;
    }
    if (typeof value === "function" || typeof value === "symbol") {
      throw new Unserializable(`received ${unserializableKind(value)}`);
    }
    return value;
  }

  #object(value: object): unknown {
    const copies = this.#copies;
    const copy = copies.get(value);
    if (copy !== undefined) return copy;

    if (isShareable(value)) {
      const data = handleData(value, this.#dest);
      (this.#modules ??= new Set()).add(data.module);
      const out = { $t: "h", v: data };
      copies.set(value, out);
      return out;
    }
    if (Array.isArray(value)) {
      const n = value.length;
      const out = new Array(n);
      copies.set(value, out);
      let i = 0;
      try {
        for (; i < n; i++) out[i] = this.#enc(value[i]);
      } catch (e) {
        addSegment(e, i);
      }
      return out;
    }
    if (isPlain(value)) return this.#plain(value);
    if (value instanceof Map) {
      const out = new Map();
      copies.set(value, out);
      let i = 0;
      for (const [k, v] of value) {
        let ek: unknown;
        try {
          ek = this.#enc(k);
        } catch (e) {
          addSegment(e, { keys: i });
        }
        try {
          out.set(ek, this.#enc(v));
        } catch (e) {
          addSegment(e, isPrimitiveKey(k) ? { get: k } : { values: i });
        }
        i++;
      }
      return out;
    }
    if (value instanceof Set) {
      const out = new Set();
      copies.set(value, out);
      let i = 0;
      try {
        for (const v of value) {
          out.add(this.#enc(v));
          i++;
        }
      } catch (e) {
        addSegment(e, { items: i });
      }
      return out;
    }
    if (
      value instanceof Date || value instanceof RegExp || value instanceof ArrayBuffer ||
      ArrayBuffer.isView(value) || isShared(value as ArrayBufferLike) ||
      value instanceof Number || value instanceof String || value instanceof Boolean ||
      value instanceof BigInt || (typeof Blob === "function" && value instanceof Blob)
    ) {
      return value;
    }
    if (isError(value)) return this.#error(value);
    const kind = rejectedKind(value);
    if (kind !== undefined) throw new Unserializable(`received ${kind}`);
    const r = classRef(value);
    (this.#modules ??= new Set()).add(r.module);
    const out: Record<string, unknown> = {};
    const result = { $t: "cls", r, v: out };
    this.#copies.set(value, result);
    this.#fill(value, out);
    return result;
  }

  #plain(value: object): unknown {
    const out: Record<string, unknown> = {};
    const result = propertyIsEnumerable(value, "$t") ? { $t: "o", v: out } : out;
    this.#copies.set(value, result);
    this.#fill(value, out);
    return result;
  }

  /** Copies the own enumerable properties of `value` into `out`, encoded. */
  #fill(value: object, out: Record<string, unknown>): void {
    let k = "";
    try {
      for (k of Object.keys(value)) {
        setKey(out, k, this.#enc((value as Record<string, unknown>)[k]));
      }
    } catch (e) {
      addSegment(e, k);
    }
  }

  #error(e: Error): Tagged {
    // Structured clone keeps only built-in error names and drops
    // AggregateError's errors, so errors are encoded like in "json" mode.
    const out: Tagged = { $t: "err", name: describe(e.name), message: describe(e.message) };
    this.#copies.set(e, out);
    if (typeof e.stack === "string") out.stack = e.stack;
    if (hasOwn(e, "cause")) {
      try {
        out.cause = this.#enc(e.cause);
      } catch (err) {
        addSegment(err, { prop: "cause" });
      }
    }
    if (e instanceof AggregateError && Array.isArray(e.errors)) {
      try {
        out.errors = this.#enc(e.errors);
      } catch (err) {
        addSegment(err, { prop: "errors" });
      }
    }
    const props = errorProps(e);
    if (props !== undefined) out.props = props;
    return out;
  }
}

// ---------------------------------------------------------------------------
// Decoding

const builtinErrors: Record<string, new (message: string) => Error> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/** Builds an error from an "err" node, without its cause and errors. */
function newError(node: Tagged): Error {
  const name = String(node.name);
  const message = String(node.message);
  let e: Error;
  if (name === "AggregateError") {
    e = new AggregateError([], message);
  } else {
    const ctor = hasOwn(builtinErrors, name) ? builtinErrors[name] : undefined;
    if (ctor !== undefined) {
      e = new ctor(message);
    } else {
      e = new Error(message);
      defineHidden(e, "name", name);
    }
  }
  const stack = node.stack;
  defineHidden(
    e,
    "stack",
    typeof stack === "string" ? stack : message === "" ? name : `${name}: ${message}`,
  );
  const props = node.props;
  if (typeof props === "object" && props !== null) {
    const target = e as unknown as Record<string, unknown>;
    for (const k of Object.keys(props)) setKey(target, k, (props as Record<string, unknown>)[k]);
  }
  return e;
}

/**
 * Turns handle data back into a live object with the registered reviver
 * (for handles nested in another handle's data, such as a Condition's lock).
 *
 * @param data Handle data produced by a `[toHandle]` method.
 * @returns The live object.
 * @throws {Error} If no reviver is registered for its kind.
 */
export function reviveHandle(data: HandleData): unknown {
  return revive(data);
}

function revive(data: HandleData): unknown {
  const reviver = revivers.get(data.kind);
  if (reviver === undefined) {
    throw new Error(
      `Cannot decode a "${data.kind}" handle as no reviver is registered for it: import "${data.module}" first or use decode()`,
    );
  }
  return reviver(data);
}

function viewCtor(c: unknown): ((bytes: Uint8Array<ArrayBuffer>) => unknown) | undefined {
  if (c === "DataView") return (bytes) => new DataView(bytes.buffer);
  if (
    typeof c !== "string" || !/^(?:Big)?(?:Int|Uint|Float)(?:8|16|32|64)(?:Clamped)?Array$/.test(c)
  ) {
    return undefined;
  }
  const ctor = (globalThis as Record<string, unknown>)[c] as
    | (new (buffer: ArrayBuffer) => unknown)
    | undefined;
  return typeof ctor === "function" ? (bytes) => new ctor(bytes.buffer) : undefined;
}

/** The class an instance is revived as: its module was imported by {@linkcode decode}. */
function classOf(ref: TargetRef): { prototype: object } {
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

function malformed(what: string): TypeError {
  return new TypeError(`Cannot decode value as ${what}`);
}

/** Inverse of {@linkcode JsonEncoder}; numbers objects in the same order. */
class JsonDecoder {
  #refs: unknown[] = [];

  dec(node: unknown): unknown {
    if (typeof node !== "object" || node === null) return node;
    const refs = this.#refs;
    if (Array.isArray(node)) {
      const n = node.length;
      const out = new Array(n);
      refs.push(out);
      for (let i = 0; i < n; i++) out[i] = this.dec(node[i]);
      return out;
    }
    const t = (node as Tagged).$t;
    if (t === undefined) {
      const out: Record<string, unknown> = {};
      refs.push(out);
      this.#fill(out, node as Record<string, unknown>);
      return out;
    }
    return this.#tagged(node as Tagged, t);
  }

  #fill(out: Record<string, unknown>, node: Record<string, unknown>): void {
    for (const k of Object.keys(node)) setKey(out, k, this.dec(node[k]));
  }

  #tagged(node: Tagged, t: string): unknown {
    const refs = this.#refs;
    switch (t) {
      case "ref": {
        const i = node.i as number;
        if (!(i >= 0 && i < refs.length)) throw malformed(`it refers to unknown object #${i}`);
        return refs[i];
      }
      case "u":
        return undefined;
      case "n":
        return node.v === "-0" ? -0 : Number(node.v);
      case "bi":
        return BigInt(node.v as string);
      case "o": {
        const out: Record<string, unknown> = {};
        refs.push(out);
        this.#fill(out, node.v as Record<string, unknown>);
        return out;
      }
      case "d": {
        const out = new Date(node.v === null ? NaN : node.v as number);
        refs.push(out);
        return out;
      }
      case "re": {
        const out = new RegExp(node.source as string, node.flags as string);
        refs.push(out);
        return out;
      }
      case "map": {
        const out = new Map();
        refs.push(out);
        for (const [k, v] of node.v as [unknown, unknown][]) {
          const key = this.dec(k);
          out.set(key, this.dec(v));
        }
        return out;
      }
      case "set": {
        const out = new Set();
        refs.push(out);
        for (const v of node.v as unknown[]) out.add(this.dec(v));
        return out;
      }
      case "ab": {
        const bytes = fromBytes(node.v);
        let out = bytes.buffer;
        if (typeof node.x === "number") {
          out = new ArrayBuffer(bytes.length, { maxByteLength: node.x });
          new Uint8Array(out).set(bytes);
        }
        refs.push(out);
        return out;
      }
      case "ta": {
        const make = viewCtor(node.c);
        if (make === undefined) throw malformed(`its view class ${String(node.c)} is unknown`);
        const out = make(fromBytes(node.v));
        refs.push(out);
        return out;
      }
      case "err": {
        const out = newError(node);
        refs.push(out);
        if ("cause" in node) defineHidden(out, "cause", this.dec(node.cause));
        if ("errors" in node) defineHidden(out, "errors", this.dec(node.errors));
        return out;
      }
      case "box": {
        const slot = refs.length;
        refs.push(undefined);
        const out = Object(this.dec(node.v));
        refs[slot] = out;
        return out;
      }
      case "h": {
        const slot = refs.length;
        refs.push(undefined);
        const out = revive(node.v as HandleData);
        refs[slot] = out;
        return out;
      }
      case "cls": {
        const out = Object.create(classOf(node.r as TargetRef).prototype);
        refs.push(out);
        const fields = node.v as Record<string, unknown>;
        for (const k of Object.keys(fields)) defineField(out, k, this.dec(fields[k]));
        return out;
      }
      default:
        throw malformed(`its tag "${String(t)}" is unknown`);
    }
  }
}

/** Inverse of {@linkcode CloneEncoder}; keeps the tree's shared structure. */
class CloneDecoder {
  #copies = new Map<object, unknown>();

  dec(node: unknown): unknown {
    if (typeof node !== "object" || node === null) return node;
    const copies = this.#copies;
    const copy = copies.get(node);
    if (copy !== undefined) return copy;
    if (Array.isArray(node)) {
      const n = node.length;
      const out = new Array(n);
      copies.set(node, out);
      for (let i = 0; i < n; i++) out[i] = this.dec(node[i]);
      return out;
    }
    if (node instanceof Map) {
      const out = new Map();
      copies.set(node, out);
      for (const [k, v] of node) {
        const key = this.dec(k);
        out.set(key, this.dec(v));
      }
      return out;
    }
    if (node instanceof Set) {
      const out = new Set();
      copies.set(node, out);
      for (const v of node) out.add(this.dec(v));
      return out;
    }
    // Everything else structured clone rebuilt natively (Date, buffers, ...).
    if (!isPlain(node)) return node;
    const tagged = node as Tagged;
    switch (tagged.$t) {
      case undefined: {
        const out: Record<string, unknown> = {};
        copies.set(node, out);
        this.#fill(out, tagged);
        return out;
      }
      case "o": {
        const out: Record<string, unknown> = {};
        copies.set(node, out);
        this.#fill(out, tagged.v as Record<string, unknown>);
        return out;
      }
      case "h": {
        const out = revive(tagged.v as HandleData);
        copies.set(node, out);
        return out;
      }
      case "err": {
        const out = newError(tagged);
        copies.set(node, out);
        if ("cause" in tagged) defineHidden(out, "cause", this.dec(tagged.cause));
        if ("errors" in tagged) defineHidden(out, "errors", this.dec(tagged.errors));
        return out;
      }
      case "cls": {
        const out = Object.create(classOf(tagged.r as TargetRef).prototype);
        copies.set(node, out);
        const fields = tagged.v as Record<string, unknown>;
        for (const k of Object.keys(fields)) defineField(out, k, this.dec(fields[k]));
        return out;
      }
      default:
        throw malformed(`its tag "${String(tagged.$t)}" is unknown`);
    }
  }

  #fill(out: Record<string, unknown>, node: Record<string, unknown>): void {
    for (const k of Object.keys(node)) setKey(out, k, this.dec(node[k]));
  }
}
