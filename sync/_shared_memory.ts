/**
 * The storage behind `Value` and `SharedArray`: a fixed-size file in the
 * owner's private folder, shared by every process and thread. Where the host
 * can map memory between processes (Deno on Linux with `--allow-ffi`) the
 * file is mapped, as Python's shared ctypes objects are: element access is a
 * plain memory access, and `add`/`compareExchange` take a spin word in that
 * memory. Elsewhere it is read and written with positional I/O (the page
 * cache keeps processes coherent), and `add`/`compareExchange` hold the
 * file's own flock for the read-modify-write. Either way element access is
 * synchronous, like Python's, and the atomic operations are atomic with
 * respect to each other in every process.
 *
 * @module
 */

import {
  checkCanMap,
  closeWhenCollected,
  type FileHandle,
  forgetCollected,
  mapForOwner,
  newSharedPath,
  openSharedFile,
  unmapNow,
} from "../_internal/shared.ts";
import {
  canMapShared,
  currentPid,
  pidAlive,
  type SharedFile,
  type SharedMapping,
} from "../_internal/runtime.ts";
import { checkElement, type Typecode } from "../_internal/backing/value.ts";

export type { ElementOf, Typecode } from "../_internal/backing/value.ts";

interface Codec {
  size: number;
  get(view: DataView, at: number): number | bigint;
  set(view: DataView, at: number, value: number | bigint): void;
  bigint: boolean;
}

const CODECS: Record<Typecode, Codec> = {
  b: {
    size: 1,
    get: (v, at) => v.getInt8(at),
    set: (v, at, x) => v.setInt8(at, Number(x)),
    bigint: false,
  },
  B: {
    size: 1,
    get: (v, at) => v.getUint8(at),
    set: (v, at, x) => v.setUint8(at, Number(x)),
    bigint: false,
  },
  h: {
    size: 2,
    get: (v, at) => v.getInt16(at, true),
    set: (v, at, x) => v.setInt16(at, Number(x), true),
    bigint: false,
  },
  H: {
    size: 2,
    get: (v, at) => v.getUint16(at, true),
    set: (v, at, x) => v.setUint16(at, Number(x), true),
    bigint: false,
  },
  i: {
    size: 4,
    get: (v, at) => v.getInt32(at, true),
    set: (v, at, x) => v.setInt32(at, Number(x), true),
    bigint: false,
  },
  I: {
    size: 4,
    get: (v, at) => v.getUint32(at, true),
    set: (v, at, x) => v.setUint32(at, Number(x), true),
    bigint: false,
  },
  l: {
    size: 8,
    get: (v, at) => v.getBigInt64(at, true),
    set: (v, at, x) => v.setBigInt64(at, BigInt(x), true),
    bigint: true,
  },
  L: {
    size: 8,
    get: (v, at) => v.getBigUint64(at, true),
    set: (v, at, x) => v.setBigUint64(at, BigInt(x), true),
    bigint: true,
  },
  q: {
    size: 8,
    get: (v, at) => v.getBigInt64(at, true),
    set: (v, at, x) => v.setBigInt64(at, BigInt(x), true),
    bigint: true,
  },
  Q: {
    size: 8,
    get: (v, at) => v.getBigUint64(at, true),
    set: (v, at, x) => v.setBigUint64(at, BigInt(x), true),
    bigint: true,
  },
  f: {
    size: 4,
    get: (v, at) => v.getFloat32(at, true),
    set: (v, at, x) => v.setFloat32(at, Number(x), true),
    bigint: false,
  },
  d: {
    size: 8,
    get: (v, at) => v.getFloat64(at, true),
    set: (v, at, x) => v.setFloat64(at, Number(x), true),
    bigint: false,
  },
};

const MODE = 0; // control word: where the elements live
const SPIN = 1; // control word: held by add()/compareExchange() and the move to the file
const IN_MEMORY = 0;
const IN_FILE = 1;
/** Spins on the mapped spin word between checks that its holder is still alive. */
const SPINS_PER_CHECK = 1 << 20;

/** The shared memory of a Value or SharedArray, as handed to a thread. */
export interface MemoryShare {
  data: SharedArrayBuffer;
  control: SharedArrayBuffer;
}

/**
 * Fixed-size typed storage shared by threads and processes.
 *
 * While only the threads of the creating process use it, the elements live
 * in a SharedArrayBuffer: reads and writes are plain memory accesses. When it
 * is first sent to another process, the elements move to a file in the
 * owner's private folder (positional reads and writes, which the page cache
 * keeps coherent across processes), and every thread switches to it; a
 * process that receives it uses the file from the start.
 */
export class SharedMemory {
  readonly path: string;
  readonly typecode: Typecode;
  readonly length: number;
  #codec: Codec;
  #file: SharedFile | undefined;
  #buf: Uint8Array;
  #view: DataView;
  #share: MemoryShare | undefined;
  #data: DataView | undefined;
  #control: Int32Array | undefined;
  /** Whether the file is mapped into memory (the creator's choice, for every process). */
  readonly mapped: boolean;
  #mapping: SharedMapping | undefined;
  #mapView: DataView | undefined;

  /**
   * @param typecode Element type.
   * @param length Number of elements.
   * @param path The file, when reviving a handle (else a new one is named).
   * @param share The memory, when reviving a handle in a thread of the owner's process.
   * @param mapped When reviving: whether the creator mapped the file.
   * @throws {Error} If the creator mapped the file and this process cannot.
   */
  constructor(
    typecode: Typecode,
    length: number,
    path?: string,
    share?: MemoryShare,
    mapped?: boolean,
  ) {
    this.typecode = typecode;
    this.length = length;
    this.#codec = CODECS[typecode];
    this.#buf = new Uint8Array(this.#codec.size);
    this.#view = new DataView(this.#buf.buffer);
    this.path = path ?? newSharedPath("memory");
    this.mapped = path ? mapped === true : canMapShared();
    checkCanMap(this.mapped, "shared value");
    if (!path) {
      // Zero-filled, as Python's shared ctypes objects are.
      share = {
        data: new SharedArrayBuffer(this.#codec.size * length),
        control: new SharedArrayBuffer(8),
      };
    }
    if (share) {
      this.#share = share;
      this.#data = new DataView(share.data);
      this.#control = new Int32Array(share.control);
    }
  }

  #inMemory(): boolean {
    return this.#control !== undefined && Atomics.load(this.#control, MODE) === IN_MEMORY;
  }

  #open(): SharedFile {
    if (!this.#file) {
      this.#file = openSharedFile(this.path, "shared value");
      closeWhenCollected(this, this.#file);
    }
    return this.#file;
  }

  /** Bytes of the elements; the mapped spin word follows them, 8-byte aligned. */
  get #dataBytes(): number {
    return this.#codec.size * this.length;
  }

  get #spinIndex(): number {
    return Math.ceil(this.#dataBytes / 8) * 2;
  }

  /** The mapped file as bytes (mapped on first use, again after close()). */
  #mapped(): DataView {
    if (!this.#mapView) {
      const mapping = mapForOwner(this, this.path, this.#spinIndex * 4 + 8);
      this.#mapping = mapping;
      this.#mapView = new DataView(mapping.words.buffer);
    }
    return this.#mapView;
  }

  /** Closes this object's descriptor or mapping; it reopens on the next access. Harmless twice. */
  close(): void {
    if (this.#mapping) {
      unmapNow(this.#mapping);
      this.#mapping = undefined;
      this.#mapView = undefined;
    }
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
    const at = i * this.#codec.size;
    if (this.#inMemory()) return this.#codec.get(this.#data!, at);
    if (this.mapped) return this.#codec.get(this.#mapped(), at);
    this.#open().read(at, this.#buf);
    return this.#codec.get(this.#view, 0);
  }

  /** Writes element `i`. */
  set(i: number, value: number | bigint): void {
    this.#check(value);
    const at = i * this.#codec.size;
    if (this.#inMemory()) {
      this.#codec.set(this.#data!, at, value);
      // Moved to the file meanwhile: the move may have copied the old value, so write it through.
      if (!this.#inMemory()) this.#writeThrough(at);
      return;
    }
    if (this.mapped) {
      this.#codec.set(this.#mapped(), at, value);
      return;
    }
    this.#codec.set(this.#view, 0, value);
    this.#open().write(at, this.#buf);
  }

  #writeThrough(at: number): void {
    const size = this.#codec.size;
    const bytes = new Uint8Array(this.#share!.data, at, size).slice();
    if (this.mapped) new Uint8Array(this.#mapped().buffer, at, size).set(bytes);
    else this.#open().write(at, bytes);
  }

  #check(value: unknown): void {
    checkElement(this.typecode, value, "a shared value");
  }

  #spin(): void {
    while (Atomics.compareExchange(this.#control!, SPIN, 0, 1) !== 0) {
      // Held only by add()/compareExchange() of another thread, for nanoseconds.
    }
  }

  #unspin(): void {
    Atomics.store(this.#control!, SPIN, 0);
  }

  /**
   * Runs `fn` exclusively with respect to other atomic operations, in every
   * thread and process: a spin word in memory while the elements are in
   * memory, the file's flock once they are in the file (critical sections
   * are a few system calls at most).
   */
  #atomic<T>(fn: () => T): T {
    if (this.#control) {
      this.#spin();
      if (Atomics.load(this.#control, MODE) === IN_MEMORY) {
        try {
          return fn();
        } finally {
          this.#unspin();
        }
      }
      this.#unspin();
    }
    if (this.mapped) return this.#atomicMapped(fn);
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

  /**
   * `#atomic` in mapped memory: a spin word holding the holder's pid, taken
   * over if that process died inside its few nanoseconds of critical section.
   */
  #atomicMapped<T>(fn: () => T): T {
    const words = new Int32Array(this.#mapped().buffer);
    const at = this.#spinIndex;
    const pid = currentPid();
    for (let spins = 1;; spins++) {
      const holder = Atomics.compareExchange(words, at, 0, pid);
      if (holder === 0) break;
      if (spins % SPINS_PER_CHECK === 0 && holder !== pid && !pidAlive(holder)) {
        if (Atomics.compareExchange(words, at, holder, pid) === holder) break;
      }
    }
    try {
      return fn();
    } finally {
      Atomics.store(words, at, 0);
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

  /** Moves the elements to the file (once), before the first handle for another process. */
  #moveToFile(): void {
    const control = this.#control;
    if (!control || Atomics.load(control, MODE) === IN_FILE) return;
    this.#spin();
    try {
      if (Atomics.load(control, MODE) === IN_FILE) return;
      // The mode flips first: a write racing with the copy sees it and writes itself through.
      Atomics.store(control, MODE, IN_FILE);
      const bytes = new Uint8Array(this.#share!.data).slice();
      if (this.mapped) new Uint8Array(this.#mapped().buffer, 0, bytes.length).set(bytes);
      else this.#open().write(0, bytes);
    } finally {
      this.#unspin();
    }
  }

  /** The handle data naming this storage (for a thread: with its memory). */
  handle(
    kind: string,
    module: string,
    extra: Record<string, unknown>,
    dest: "process" | "thread",
  ): FileHandle {
    if (dest === "process") this.#moveToFile();
    return {
      kind,
      module,
      path: this.path,
      params: { typecode: this.typecode, length: this.length, mapped: this.mapped },
      ...(dest === "thread" && this.#share ? { share: this.#share } : {}),
      ...extra,
    };
  }
}
