// Copyright the multiproc authors. MIT license.
/**
 * The "clone" codec: the containers of a value copied for `postMessage`
 * (handles replaced, `$t` keys escaped, errors encoded), and back (see
 * `codec.ts`).
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
  isPlain,
  isPrimitiveKey,
  isShared,
  malformed,
  MAX_DEPTH,
  propertyIsEnumerable,
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

/**
 * Copies the containers of a value for `postMessage`, replacing handles,
 * escaping `$t` keys and encoding errors; other values are kept as they are.
 */
export class CloneEncoder {
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
    return errorNode(e, (v) => this.#enc(v), true, (out) => this.#copies.set(e, out));
  }
}

/** Inverse of {@linkcode CloneEncoder}; keeps the tree's shared structure. */
export class CloneDecoder {
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
        const out = reviveHandle(tagged.v as HandleData);
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
