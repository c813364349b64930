// Copyright the multiproc authors. MIT license.
/**
 * The codec's binary form (how a queue item crosses): a value straight to
 * wire bytes (see `wire_format.ts`) and back, in one walk each way, with no
 * tree in between for what most values are made of.
 *
 * The bytes are those of the "json" codec's tree (see `codec.ts` for its
 * tags) in MessagePack, wrapped as `{ v, m? }` (an `Encoded`), so either
 * side may take the other's path:
 *
 * - {@linkcode BytesEncoder} writes strings, numbers, booleans, `null`,
 *   arrays, plain objects, `undefined`, bigints, Dates, Maps, Sets, typed
 *   arrays and `ArrayBuffer`s itself; anything else (errors, handles, class
 *   instances, boxed primitives, RegExps, what is refused) it has the
 *   "json" codec's {@linkcode JsonEncoder} encode as a tagged node, sharing
 *   its object numbers, and writes that node. Long bytes are copied once,
 *   into a result of exactly their size (see `packExact`).
 * - {@linkcode decodeBytes} reads arrays and plain maps as the values they
 *   are, numbering them as it goes; Maps and Sets too; any other tagged
 *   node it reads as it is and has {@linkcode JsonDecoder} decode, sharing
 *   its numbers. When the value needs modules imported first (`m`, written
 *   after it), it only reads the tree, to be decoded once they are.
 *
 * @module
 */

import {
  addSegment,
  type Encoded,
  type EncodeOptions,
  fail,
  isJsonNumber,
  isPlain,
  isPrimitiveKey,
  isShared,
  malformed,
  MAX_DEPTH,
  propertyIsEnumerable,
  setKey,
  type Tagged,
  TOO_DEEP,
  Unserializable,
  unserializableKind,
} from "./codec_tree.ts";
import { isShareable } from "./handles.ts";
import { JsonDecoder, JsonEncoder, NOT_SHAREABLE, viewBytes, viewClass } from "./json_codec.ts";
import {
  readArrayHeader,
  readKey,
  readMapHeader,
  readPlain,
  readValue,
  unpackWith,
} from "./wire_reader.ts";
import { packExact, writeBytesLater } from "./wire_pack.ts";
import {
  arrayHeader,
  mapHeader,
  patchByte,
  u8,
  writeNumber,
  writeString,
  writeValue,
} from "./wire_writer.ts";

/** Writes the start of a tagged node: a map of `$t` and `fields` more entries. */
function tag(t: string, fields: number): void {
  u8(0x81 + fields);
  writeString("$t");
  writeString(t);
}

/** Walks a value straight into wire bytes, see the module docs. */
export class BytesEncoder {
  #dest: "process" | "thread";
  #seen = new Map<object, number>();
  #depth = 0;
  /** Encodes what this walk does not write itself, with the same numbers. */
  #tree: JsonEncoder | undefined;

  constructor(dest: "process" | "thread") {
    this.#dest = dest;
  }

  /**
   * The bytes of `{ v: value, m? }`, `m` the sorted modules its handles and
   * class instances need.
   *
   * @throws {TypeError} If a part of `value` is not serializable.
   */
  run(value: unknown, options: EncodeOptions): Uint8Array {
    try {
      return packExact(() => {
        u8(0x81); // { v }, or { v, m } once the modules are known
        writeString("v");
        this.#enc(value);
        const modules = this.#tree?.modules;
        if (modules !== undefined) {
          patchByte(0, 0x82);
          writeString("m");
          writeValue([...modules].sort(), 0);
        }
      });
    } catch (e) {
      if (e instanceof Unserializable) fail(e, options);
      throw e;
    }
  }

  #enc(value: unknown): void {
    switch (typeof value) {
      case "string":
        writeString(value);
        return;
      case "boolean":
        u8(value ? 0xc3 : 0xc2);
        return;
      case "number":
        if (isJsonNumber(value)) writeNumber(value);
        else {
          tag("n", 1);
          writeString("v");
          writeString(value === 0 ? "-0" : String(value));
        }
        return;
      case "undefined":
        tag("u", 0);
        return;
      case "bigint":
        tag("bi", 1);
        writeString("v");
        writeString(value.toString());
        return;
      case "object":
        if (value === null) {
          u8(0xc0);
          return;
        }
        // Not restored when an error unwinds: the encoder is not used after one.
        if (++this.#depth > MAX_DEPTH) throw new Unserializable(TOO_DEEP);
        this.#object(value);
        this.#depth--;
        return;
      default:
        throw new Unserializable(`received ${unserializableKind(value)}`);
    }
  }

  #object(value: object): void {
    const seen = this.#seen;
    const id = seen.get(value);
    if (id !== undefined) {
      tag("ref", 1);
      writeString("i");
      writeNumber(id);
      return;
    }
    if (isShareable(value)) return this.#other(value);
    if (Array.isArray(value)) {
      seen.set(value, seen.size);
      return this.#array(value);
    }
    if (isPlain(value)) {
      seen.set(value, seen.size);
      return this.#plain(value);
    }
    if (value instanceof Date) {
      seen.set(value, seen.size);
      const t = value.getTime();
      tag("d", 1);
      writeString("v");
      if (t === t) writeNumber(t);
      else u8(0xc0);
      return;
    }
    if (value instanceof Map) {
      seen.set(value, seen.size);
      return this.#map(value);
    }
    if (value instanceof Set) {
      seen.set(value, seen.size);
      return this.#set(value);
    }
    if (value instanceof ArrayBuffer) {
      seen.set(value, seen.size);
      tag("ab", value.resizable ? 2 : 1);
      writeString("v");
      writeBytesLater(new Uint8Array(value));
      if (value.resizable) {
        writeString("x");
        writeNumber(value.maxByteLength);
      }
      return;
    }
    if (ArrayBuffer.isView(value)) {
      const c = viewClass(value);
      if (isShared(value.buffer)) {
        throw new Unserializable(`received ${c} over a SharedArrayBuffer, ${NOT_SHAREABLE}`);
      }
      seen.set(value, seen.size);
      tag("ta", 2);
      writeString("c");
      writeString(c);
      writeString("v");
      writeBytesLater(viewBytes(value));
      return;
    }
    this.#other(value);
  }

  /** Has the "json" codec encode `value` (numbering it) and writes its tree. */
  #other(value: object): void {
    const tree = this.#tree ??= new JsonEncoder(this.#dest, "view", this.#seen);
    writeValue(tree.object(value, this.#depth), 0);
  }

  #array(value: unknown[]): void {
    const n = value.length;
    arrayHeader(n);
    let i = 0;
    try {
      for (; i < n; i++) this.#enc(value[i]);
    } catch (e) {
      addSegment(e, i);
    }
  }

  #plain(value: object): void {
    const keys = Object.keys(value);
    if (propertyIsEnumerable(value, "$t")) {
      tag("o", 1);
      writeString("v");
    }
    mapHeader(keys.length);
    let k = "";
    try {
      for (k of keys) {
        writeString(k);
        this.#enc((value as Record<string, unknown>)[k]);
      }
    } catch (e) {
      addSegment(e, k);
    }
  }

  #map(value: Map<unknown, unknown>): void {
    const size = value.size;
    tag("map", 1);
    writeString("v");
    arrayHeader(size);
    let i = 0;
    for (const [k, v] of value) {
      if (i === size) break;
      arrayHeader(2);
      try {
        this.#enc(k);
      } catch (e) {
        addSegment(e, { keys: i });
      }
      try {
        this.#enc(v);
      } catch (e) {
        addSegment(e, isPrimitiveKey(k) ? { get: k } : { values: i });
      }
      i++;
    }
    if (i !== size) throw new Unserializable("received a Map that shrank while it was encoded");
  }

  #set(value: Set<unknown>): void {
    const size = value.size;
    tag("set", 1);
    writeString("v");
    arrayHeader(size);
    let i = 0;
    try {
      for (const v of value) {
        if (i === size) break;
        this.#enc(v);
        i++;
      }
    } catch (e) {
      addSegment(e, { items: i });
    }
    if (i !== size) throw new Unserializable("received a Set that shrank while it was encoded");
  }
}

/**
 * The string of `{ v: s }` bytes for a short ASCII string (as
 * `packValueString` writes them: most queue items), read without the
 * general reader; `undefined` for any other bytes.
 */
function valueString(bytes: Uint8Array): string | undefined {
  const n = bytes.length - 4;
  if (
    n < 0 || n > 31 || bytes[0] !== 0x81 || bytes[1] !== 0xa1 || bytes[2] !== 0x76 ||
    bytes[3] !== (0xa0 | n)
  ) return undefined;
  let s = "";
  for (let i = 4; i < bytes.length; i++) {
    const c = bytes[i];
    if (c > 0x7f) return undefined;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Reads the bytes of {@linkcode BytesEncoder}: the decoded value (`d` set)
 * when it needs no module, otherwise its tree and modules, for `decode`.
 *
 * @throws {Error} If the bytes are malformed.
 * @throws {TypeError} If they do not hold an encoded value.
 */
export function decodeBytes(bytes: Uint8Array): Encoded {
  const short = valueString(bytes);
  if (short !== undefined) return { v: short, d: true };
  const refs: unknown[] = [];
  let tree: JsonDecoder | undefined;
  const tagged = (t: string, fields: number, depth: number): unknown => {
    switch (t) {
      case "u":
        if (fields !== 0) break;
        return undefined;
      case "map": {
        const out = new Map();
        refs.push(out);
        const n = entries(fields);
        for (let i = 0; i < n; i++) {
          if (readArrayHeader() !== 2) throw malformed("a Map entry is not a pair");
          const key = readValue(depth + 3);
          out.set(key, readValue(depth + 3));
        }
        return out;
      }
      case "set": {
        const out = new Set();
        refs.push(out);
        const n = entries(fields);
        for (let i = 0; i < n; i++) out.add(readValue(depth + 2));
        return out;
      }
    }
    // Anything else as the "json" codec's node, decoded by it with the same numbers.
    const node: Tagged = { $t: t };
    for (let i = 0; i < fields; i++) setKey(node, readKey(), readPlain(depth + 1));
    if (t === "ta" && node.c === "Uint8Array" && node.v instanceof Uint8Array) {
      // The common typed array: the bytes read are a copy of its own, exactly its size.
      refs.push(node.v);
      return node.v;
    }
    return (tree ??= new JsonDecoder(refs)).dec(node);
  };
  return unpackWith(
    bytes,
    () => {
      const n = readMapHeader();
      if ((n !== 1 && n !== 2) || readKey() !== "v") {
        throw new TypeError("Cannot decode value as its bytes are not an encoded value");
      }
      if (n === 1) return { v: readValue(1), d: true };
      const v = readPlain(1);
      if (readKey() !== "m") {
        throw new TypeError(
          "Cannot decode value as its bytes are not an encoded value",
        );
      }
      const m = readPlain(1);
      if (!Array.isArray(m) || !m.every((url) => typeof url === "string")) {
        throw malformed("its modules are not a list of URLs");
      }
      return { v, m };
    },
    false,
    tagged,
    refs,
  );
}

/** Reads the one field of a Map or Set node, `v`, up to its entries, and returns their count. */
function entries(fields: number): number {
  if (fields !== 1 || readKey() !== "v") throw malformed("a Map or Set node has other fields");
  return readArrayHeader();
}
