/**
 * The storage behind `Value` and `SharedArray`: a fixed-size file in the
 * owner's private folder, read and written with positional I/O by every
 * process and thread (the page cache keeps them coherent: a stand-in for the
 * shared memory Deno cannot map without FFI). Element access is
 * synchronous, like Python's ctypes objects; `add`/`compareExchange` hold the
 * file's own flock for the read-modify-write, so they are atomic with respect
 * to each other in every process.
 *
 * @module
 */

import {
  closeWhenCollected,
  type FileHandle,
  forgetCollected,
  newSharedPath,
  openSharedFile,
} from "../_internal/shared.ts";
import type { SharedFile } from "../_internal/runtime.ts";

/** Python's typecodes (as in `array` and `multiprocessing.Value`). */
export type Typecode = "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d";

/** The JavaScript type of an element: `bigint` for the 64-bit integer codes. */
export type ElementOf<T extends Typecode> = T extends "l" | "L" | "q" | "Q" ? bigint : number;

interface Codec {
  size: number;
  get(view: DataView): number | bigint;
  set(view: DataView, value: number | bigint): void;
  bigint: boolean;
}

const CODECS: Record<Typecode, Codec> = {
  b: { size: 1, get: (v) => v.getInt8(0), set: (v, x) => v.setInt8(0, Number(x)), bigint: false },
  B: { size: 1, get: (v) => v.getUint8(0), set: (v, x) => v.setUint8(0, Number(x)), bigint: false },
  h: {
    size: 2,
    get: (v) => v.getInt16(0, true),
    set: (v, x) => v.setInt16(0, Number(x), true),
    bigint: false,
  },
  H: {
    size: 2,
    get: (v) => v.getUint16(0, true),
    set: (v, x) => v.setUint16(0, Number(x), true),
    bigint: false,
  },
  i: {
    size: 4,
    get: (v) => v.getInt32(0, true),
    set: (v, x) => v.setInt32(0, Number(x), true),
    bigint: false,
  },
  I: {
    size: 4,
    get: (v) => v.getUint32(0, true),
    set: (v, x) => v.setUint32(0, Number(x), true),
    bigint: false,
  },
  l: {
    size: 8,
    get: (v) => v.getBigInt64(0, true),
    set: (v, x) => v.setBigInt64(0, BigInt(x), true),
    bigint: true,
  },
  L: {
    size: 8,
    get: (v) => v.getBigUint64(0, true),
    set: (v, x) => v.setBigUint64(0, BigInt(x), true),
    bigint: true,
  },
  q: {
    size: 8,
    get: (v) => v.getBigInt64(0, true),
    set: (v, x) => v.setBigInt64(0, BigInt(x), true),
    bigint: true,
  },
  Q: {
    size: 8,
    get: (v) => v.getBigUint64(0, true),
    set: (v, x) => v.setBigUint64(0, BigInt(x), true),
    bigint: true,
  },
  f: {
    size: 4,
    get: (v) => v.getFloat32(0, true),
    set: (v, x) => v.setFloat32(0, Number(x), true),
    bigint: false,
  },
  d: {
    size: 8,
    get: (v) => v.getFloat64(0, true),
    set: (v, x) => v.setFloat64(0, Number(x), true),
    bigint: false,
  },
};

/** Checks a typecode, with an error that lists the valid ones. */
export function checkTypecode(typecode: unknown, what: string): asserts typecode is Typecode {
  if (typeof typecode !== "string" || !(typecode in CODECS)) {
    throw new TypeError(
      `Cannot create ${what} as typecode ${JSON.stringify(typecode)} is not one of ` +
        `${Object.keys(CODECS).join(", ")}`,
    );
  }
}

/** Fixed-size typed storage in a shared file. */
export class SharedMemory {
  readonly path: string;
  readonly typecode: Typecode;
  readonly length: number;
  #codec: Codec;
  #file: SharedFile | undefined;
  #buf: Uint8Array;
  #view: DataView;

  constructor(typecode: Typecode, length: number, path?: string) {
    this.typecode = typecode;
    this.length = length;
    this.#codec = CODECS[typecode];
    this.#buf = new Uint8Array(this.#codec.size);
    this.#view = new DataView(this.#buf.buffer);
    this.path = path ?? newSharedPath("memory");
    if (!path) {
      // Zero-filled at its full size, as Python's shared ctypes objects are.
      this.#open().write(0, new Uint8Array(this.#codec.size * length));
    }
  }

  #open(): SharedFile {
    if (!this.#file) {
      this.#file = openSharedFile(this.path, "shared value");
      closeWhenCollected(this, this.#file);
    }
    return this.#file;
  }

  /** Closes this object's descriptor; it reopens on the next access. Harmless twice. */
  close(): void {
    if (!this.#file) return;
    forgetCollected(this.#file);
    this.#file.close();
    this.#file = undefined;
  }

  /** Whether elements are bigints. */
  get bigint(): boolean {
    return this.#codec.bigint;
  }

  /** Reads element `i`. */
  get(i: number): number | bigint {
    this.#open().read(i * this.#codec.size, this.#buf);
    return this.#codec.get(this.#view);
  }

  /** Writes element `i`. */
  set(i: number, value: number | bigint): void {
    this.#check(value);
    this.#codec.set(this.#view, value);
    this.#open().write(i * this.#codec.size, this.#buf);
  }

  #check(value: unknown): void {
    const ok = this.#codec.bigint
      ? typeof value === "bigint" || Number.isInteger(value)
      : typeof value === "number";
    if (!ok) {
      throw new TypeError(
        `Cannot store ${typeof value} in a shared value of typecode "${this.typecode}": ` +
          `expected ${this.#codec.bigint ? "a bigint" : "a number"}`,
      );
    }
  }

  /** Runs `fn` holding the file's flock (blocking briefly: critical sections are a few system calls). */
  #atomic<T>(fn: () => T): T {
    const file = this.#open();
    while (!file.tryLock()) {
      // Only other add()/compareExchange() calls hold it, for microseconds.
    }
    try {
      return fn();
    } finally {
      file.unlock();
    }
  }

  /** Atomically adds `delta` to element `i`; returns the previous value. */
  add(i: number, delta: number | bigint): number | bigint {
    this.#check(delta);
    return this.#atomic(() => {
      const old = this.get(i);
      this.set(i, this.#codec.bigint ? BigInt(old) + BigInt(delta) : Number(old) + Number(delta));
      return old;
    });
  }

  /** Atomically replaces element `i` with `replacement` if it equals `expected`; returns the previous value. */
  compareExchange(
    i: number,
    expected: number | bigint,
    replacement: number | bigint,
  ): number | bigint {
    this.#check(replacement);
    return this.#atomic(() => {
      const old = this.get(i);
      // deno-lint-ignore eqeqeq
      if (old == expected) this.set(i, replacement);
      return old;
    });
  }

  /** The handle data naming this storage. */
  handle(kind: string, module: string, extra: Record<string, unknown>): FileHandle {
    return {
      kind,
      module,
      path: this.path,
      params: { typecode: this.typecode, length: this.length },
      ...extra,
    };
  }
}
