// Copyright the multiproc authors. MIT license.
/**
 * The "json" codec: a value as a JSON-compatible tree and back (see
 * `codec.ts` for the format).
 *
 * @module
 */

import {
  addSegment,
  classOf,
  classRef,
  defineField,
  defineHidden,
  type Encoded,
  type EncodeOptions,
  fail,
  handleData,
  isError,
  isJsonNumber,
  isPlain,
  isPrimitiveKey,
  isShared,
  malformed,
  MAX_DEPTH,
  rejectedKind,
  setKey,
  type Tagged,
  TOO_DEEP,
  Unserializable,
  unserializableKind,
} from "./codec_tree.ts";
import { errorNode, newError } from "./error_data.ts";
import { type HandleData, isShareable, reviveHandle } from "./handles.ts";
import type { TargetRef } from "./target.ts";
import { fromBase64, toBase64 } from "./base64.ts";

const UNDEFINED: Tagged = { $t: "u" };

function encodeNumber(n: number): unknown {
  if (isJsonNumber(n)) return n;
  return { $t: "n", v: n === 0 ? "-0" : String(n) };
}

export const NOT_SHAREABLE = "which cannot be shared with another process";

/** The bytes of a `ta`/`ab` node: carried as they are (wire mode) or in base64 (JSON). */
function fromBytes(v: unknown): Uint8Array<ArrayBuffer> {
  if (typeof v === "string") return fromBase64(v);
  if (v instanceof Uint8Array) {
    // A buffer of its own, exactly (a frame's items and bytes are views of the frame).
    return v.byteOffset === 0 && v.byteLength === v.buffer.byteLength &&
        v.buffer instanceof ArrayBuffer
      ? v as Uint8Array<ArrayBuffer>
      : v.slice() as Uint8Array<ArrayBuffer>;
  }
  throw malformed("its bytes are neither base64 nor a Uint8Array");
}

export function viewBytes(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

const typedArrayTag = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  Symbol.toStringTag,
)!.get!;

/** Typed array class name, robust to subclasses (reads the internal slot). */
export function viewClass(view: ArrayBufferView): string {
  return view instanceof DataView ? "DataView" : typedArrayTag.call(view) as string;
}

/** Walks a value into a JSON-compatible tree, see the module docs. */
export class JsonEncoder {
  #dest: "process" | "thread";
  #seen: Map<object, number>;
  #modules: Set<string> | undefined;
  #depth = 0;

  /**
   * How bytes are carried: in base64 (the tree goes through JSON), as a copy
   * (it goes through `wire.ts` later), or as a view of the value's own bytes
   * (it is packed before the caller returns).
   */
  #bytesAs: "base64" | "copy" | "view";

  /**
   * @param seen The numbers of the objects met so far: shared with the
   *   walk that calls {@linkcode JsonEncoder.object} (see `bytes_codec.ts`).
   */
  constructor(
    dest: "process" | "thread",
    bytesAs: "base64" | "copy" | "view" = "base64",
    seen = new Map<object, number>(),
  ) {
    this.#dest = dest;
    this.#bytesAs = bytesAs;
    this.#seen = seen;
  }

  /** The modules the objects encoded so far need (their handles' and classes'), if any. */
  get modules(): Set<string> | undefined {
    return this.#modules;
  }

  /**
   * Encodes an object not met before (not numbered yet), `depth` levels
   * deep, for another walk that shares this encoder's numbers.
   */
  object(value: object, depth: number): unknown {
    this.#depth = depth;
    return this.#object(value);
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
   * fallback of `errorToData` in `codec.ts`).
   */
  encodeError(e: Error, withCause: boolean): Tagged {
    if (!this.#seen.has(e)) this.#seen.set(e, this.#seen.size);
    return errorNode(e, (v) => this.#enc(v), withCause);
  }
}

export function viewCtor(c: unknown): ((bytes: Uint8Array<ArrayBuffer>) => unknown) | undefined {
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

/** Inverse of {@linkcode JsonEncoder}; numbers objects in the same order. */
export class JsonDecoder {
  #refs: unknown[];

  /**
   * @param refs The objects decoded so far, by number: shared with the
   *   reader that calls {@linkcode JsonDecoder.dec} for some nodes (see `bytes_codec.ts`).
   */
  constructor(refs: unknown[] = []) {
    this.#refs = refs;
  }

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
        const out = reviveHandle(node.v as HandleData);
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
