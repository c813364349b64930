/**
 * The local {@linkcode ValueBacking} of `Value`: element 0 of a
 * `SharedMemory` (memory while only this process's threads use it, then a
 * file every process maps or reads and writes).
 *
 * @module
 */

import type { ElementOf, Typecode, ValueBacking } from "../_internal/backing/value.ts";
import type { FileHandle } from "../_internal/shared.ts";
import { type MemoryShare, SharedMemory } from "./_shared_memory.ts";

/** The handle of a Value's memory: its file, and for a thread its memory. */
export type ValueMemoryHandle = FileHandle & { share?: MemoryShare };

/** A number in memory shared by processes and threads. */
export class SharedValueBacking<T extends Typecode> implements ValueBacking<T, ElementOf<T>> {
  readonly #memory: SharedMemory;

  /** A new number (zero, as Python's), or, with `memory`, one a handle describes. */
  constructor(typecode: T, memory?: SharedMemory) {
    this.#memory = memory ?? new SharedMemory(typecode, 1);
  }

  /** The number a handle describes, in this process or thread. */
  static fromHandle(data: ValueMemoryHandle): SharedValueBacking<Typecode> {
    const { typecode, mapped } = data.params as { typecode: Typecode; mapped?: boolean };
    return new SharedValueBacking(
      typecode,
      new SharedMemory(typecode, 1, data.path, data.share, mapped),
    );
  }

  get typecode(): T {
    return this.#memory.typecode as T;
  }

  get(): ElementOf<T> {
    return this.#memory.get(0) as ElementOf<T>;
  }

  set(value: ElementOf<T>): void {
    this.#memory.set(0, value);
  }

  add(delta: ElementOf<T>): ElementOf<T> {
    return this.#memory.add(0, delta) as ElementOf<T>;
  }

  compareExchange(expected: ElementOf<T>, replacement: ElementOf<T>): ElementOf<T> {
    return this.#memory.compareExchange(0, expected, replacement) as ElementOf<T>;
  }

  close(): void {
    this.#memory.close();
  }

  handle(kind: string, module: string, dest: "process" | "thread"): ValueMemoryHandle {
    return this.#memory.handle(kind, module, {}, dest);
  }
}
