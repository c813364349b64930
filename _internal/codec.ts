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
 * The binary form ({@linkcode encodeBytes}, how a queue item crosses) is
 * this tree's MessagePack (see `wire.ts`), written and read in one walk each
 * way by `bytes_codec.ts`, without building the tree.
 *
 * Paths in error messages are JavaScript expressions rooted at
 * {@linkcode EncodeOptions.root}: `args[0]`, `args[1].user.name`,
 * `args[2]["a b"]`, `args[3].get("key")` (a Map value with a primitive key),
 * `[...args[3].keys()][1]` / `[...args[3].values()][1]` (the second Map key or
 * value), `[...args[4]][0]` (the first Set item), `args[5].cause`.
 *
 * @module
 */

import { importModule, isRunningMain } from "./import_target.ts";
import { CloneDecoder, CloneEncoder } from "./clone_codec.ts";
import {
  describe,
  type Encoded,
  type EncodeOptions,
  hasOwn,
  isError,
  isJsonNumber,
  namespaces,
} from "./codec_tree.ts";
import { type ErrorData, stripTag } from "./error_data.ts";
import { JsonDecoder, JsonEncoder } from "./json_codec.ts";
import { pack, packValueString } from "./wire.ts";
import { BytesEncoder, decodeBytes } from "./bytes_codec.ts";
import { encodingLoans } from "./loans.ts";

export {
  type HandleData,
  registerReviver,
  reviveHandle,
  type Shareable,
  toHandle,
} from "./handles.ts";
export { type Encoded, type EncodeOptions, MAX_DEPTH } from "./codec_tree.ts";
export type { ErrorData } from "./error_data.ts";

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
  // A value that cannot cross gives back the copies of pipe ends it lent before it (loans.ts).
  return encodingLoans(
    [],
    () =>
      options.mode === "clone"
        ? new CloneEncoder(options.dest ?? "process").run(value, options)
        : new JsonEncoder(options.dest ?? "process", options.mode === "wire" ? "copy" : "base64")
          .run(value, options),
  );
}

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
  await importFor(enc);
  return decodeSync(enc);
}

/**
 * Imports the modules an encoded value names (`m`: its handles' revivers,
 * its instances' classes), once per process: what {@linkcode decode} does
 * before {@linkcode decodeSync}.
 *
 * @param enc The encoded value.
 */
export async function importFor(enc: Encoded): Promise<void> {
  const m = enc.m;
  if (m === undefined) return;
  for (const url of m) {
    // The program's own main module, still running, cannot be imported (it would wait for its
    // own end): its classes are found among those this process located (see classOf).
    if (!namespaces.has(url) && !isRunningMain(url)) {
      namespaces.set(url, await importModule(url));
    }
  }
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
  if (typeof v !== "object" || v === null || enc.d) return v;
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
 * Encodes a value as bytes (the wire format of `wire.ts`, written straight
 * by `bytes_codec.ts`): how a queue item crosses and waits in a hub.
 *
 * @param value The value to encode.
 * @param options Error message wording and destination; `mode` is ignored.
 * @returns The bytes, for {@linkcode decodeBytesSync} (or {@linkcode unpackEncoded}):
 *   typed arrays and `ArrayBuffer`s are copied, so changing them after the call
 *   changes nothing. Results of up to 256 KiB are views into a block shared
 *   with other results (see `pack` in `wire.ts`).
 * @throws {TypeError} If a part of `value` is not serializable.
 */
export function encodeBytes(value: unknown, options: EncodeOptions): Uint8Array {
  if (typeof value === "string") return packValueString(value);
  if (
    typeof value === "boolean" || value === null ||
    (typeof value === "number" && isJsonNumber(value))
  ) {
    return pack({ v: value });
  }
  // A value that cannot cross gives back the copies of pipe ends it lent before it (loans.ts).
  return encodingLoans([], () => new BytesEncoder(options.dest ?? "process").run(value, options));
}

/**
 * Encodes a queue item: {@linkcode encodeBytes}, the bytes a hub keeps.
 *
 * @param value The value to encode.
 * @param options Error message wording and destination; `mode` is ignored.
 * @returns The item's bytes.
 * @throws {TypeError} If a part of `value` is not serializable.
 */
export function encodeItem(value: unknown, options: EncodeOptions): Uint8Array {
  return encodeBytes(value, options);
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
  return decodeSync(unpackEncoded(bytes));
}

/**
 * Reads the encoded value that bytes of {@linkcode encodeBytes} (or a queue
 * item) hold, for {@linkcode decodeSync}, or {@linkcode decode} when it names
 * modules to import (`m`). A value that needs none is decoded as it is read
 * (the result has `d` set).
 *
 * @param bytes The bytes.
 * @returns The encoded value.
 * @throws {TypeError} If the bytes do not hold an encoded value.
 * @throws {Error} If they are malformed.
 */
export function unpackEncoded(bytes: Uint8Array): Encoded {
  return decodeBytes(bytes);
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
