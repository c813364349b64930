/**
 * The state of a shared number behind one interface, {@linkcode ValueBacking},
 * that the local backing (`sync/_value_backing.ts`: memory or a file every
 * process maps) and the Redis one (`redis/_value_backing.ts`) implement, and
 * what both need of the typecodes, written once: which exist, which hold
 * bigints or integers, how a number is checked and wrapped around.
 *
 * @module
 */

import type { HandleData } from "../handles.ts";

/**
 * Python's typecodes (as in `array` and `multiprocessing.Value`).
 *
 * @example
 * ```ts
 * import { SharedArray, type Typecode, Value } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const code: Typecode = "q"; // a signed 64-bit integer: a bigint
 * const big = new Value(code, 2n ** 40n);
 * equal(big.value, 1099511627776n);
 * equal(new SharedArray("B", 2).length, 2); // unsigned bytes: numbers
 * ```
 */
export type Typecode = "b" | "B" | "h" | "H" | "i" | "I" | "l" | "L" | "q" | "Q" | "f" | "d";

/**
 * The JavaScript type of an element: `bigint` for the 64-bit integer codes.
 *
 * @example
 * ```ts
 * import type { ElementOf } from "@multiproc/multiproc";
 * import { Value } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * const small: ElementOf<"i"> = new Value("i", 7).value; // number
 * const big: ElementOf<"Q"> = new Value("Q", 7n).value; // bigint
 * equal(BigInt(small), big);
 * ```
 */
export type ElementOf<T extends Typecode> = T extends "l" | "L" | "q" | "Q" ? bigint : number;

/** The typed array of each typecode: its size, and the wrap-around of a stored number. */
export const TYPED_ARRAYS = {
  b: Int8Array,
  B: Uint8Array,
  h: Int16Array,
  H: Uint16Array,
  i: Int32Array,
  I: Uint32Array,
  l: BigInt64Array,
  L: BigUint64Array,
  q: BigInt64Array,
  Q: BigUint64Array,
  f: Float32Array,
  d: Float64Array,
} as const;

/** Whether elements of `typecode` are bigints (the 64-bit integer codes). */
export function holdsBigints(typecode: Typecode): boolean {
  return TYPED_ARRAYS[typecode] === BigInt64Array || TYPED_ARRAYS[typecode] === BigUint64Array;
}

/**
 * Checks a typecode, with an error that lists the valid ones.
 *
 * @param typecode As given.
 * @param action What was attempted, e.g. `create value`.
 * @throws {TypeError} If it is not one of Python's typecodes.
 */
export function checkTypecode(typecode: unknown, action: string): asserts typecode is Typecode {
  if (typeof typecode !== "string" || !Object.hasOwn(TYPED_ARRAYS, typecode)) {
    throw new TypeError(
      `Cannot ${action} as typecode ${JSON.stringify(typecode)} is not one of ` +
        `${Object.keys(TYPED_ARRAYS).join(", ")}`,
    );
  }
}

/**
 * Checks a number to store in an element of `typecode`: a bigint or an
 * integer number for a bigint code, an integer number for the other integer
 * codes (Python: "'float' object cannot be interpreted as an integer"), any
 * number for `f` and `d`. Out-of-range integers wrap around, as in Python's
 * ctypes ({@linkcode wrapElement}).
 *
 * @param typecode The element type.
 * @param value As given.
 * @param where E.g. `a shared value`, for the message.
 * @throws {TypeError} If it does not fit.
 */
export function checkElement(typecode: Typecode, value: unknown, where: string): void {
  const float = typecode === "f" || typecode === "d";
  if (typeof value === "number" && !Number.isInteger(value) && !float) {
    throw new TypeError(
      `Cannot store ${value} in ${where} of typecode "${typecode}" as it holds ` +
        `integers: round the number first (Math.round, Math.trunc)`,
    );
  }
  const bigint = holdsBigints(typecode);
  const ok = bigint
    ? typeof value === "bigint" || typeof value === "number"
    : typeof value === "number";
  if (!ok) {
    throw new TypeError(
      `Cannot store ${typeof value} in ${where} of typecode "${typecode}": ` +
        `expected ${bigint ? "a bigint" : "a number"}`,
    );
  }
}

/** A checked number as an element of `typecode` holds it (wrapped around, or rounded to a float32). */
export function wrapElement<T extends Typecode>(typecode: T, value: number | bigint): ElementOf<T> {
  const array = new TYPED_ARRAYS[typecode](1);
  if (holdsBigints(typecode)) (array as BigInt64Array)[0] = BigInt(value);
  else (array as Float64Array)[0] = Number(value);
  return array[0] as ElementOf<T>;
}

/**
 * The state of one shared number (Python's `Value`) as one object sees it.
 * The number is read and written synchronously (remotely: a snapshot, and
 * a write that reaches the server in the background); the atomic operations
 * answer at once locally and after a round trip remotely, so their result
 * is `A`: `ElementOf<T>` or `Promise<ElementOf<T>>`.
 *
 * Every number handed to a backing has passed {@linkcode checkElement}.
 */
export interface ValueBacking<T extends Typecode, A extends ElementOf<T> | Promise<ElementOf<T>>> {
  /** The element type. */
  readonly typecode: T;
  /** The number (a snapshot where the state is remote). */
  get(): ElementOf<T>;
  /** Stores the number (wrapped around as its typecode does). */
  set(value: ElementOf<T>): void;
  /** Adds `delta` atomically; answers the number before. */
  add(delta: ElementOf<T>): A;
  /** Stores `replacement` atomically if the number equals `expected`; answers the number before. */
  compareExchange(expected: ElementOf<T>, replacement: ElementOf<T>): A;
  /** Frees this object's resources (descriptors, mappings). Harmless twice. */
  close(): void;
  /**
   * Describes the number for another process or thread, under `kind`: the
   * reviver registered for `kind` (in `module`) builds the same kind of
   * backing from it, on the same state.
   */
  handle(kind: string, module: string, dest: "process" | "thread"): HandleData;
}
