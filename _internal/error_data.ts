// Copyright the multiproc authors. MIT license.
/**
 * Errors in the encoded tree: the {@linkcode ErrorData} an error is reported
 * as, the fields kept beyond name and message, and the built-in classes an
 * error is rebuilt as. `errorToData` and `errorFromData` (in `codec.ts`) walk
 * the rest (cause, errors) with the "json" codec.
 *
 * @module
 */

import {
  addSegment,
  defineHidden,
  describe,
  hasOwn,
  isJsonNumber,
  setKey,
  type Tagged,
} from "./codec_tree.ts";

/** Plain, JSON-compatible description of an error, see `errorToData` in `codec.ts`. */
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

/**
 * An error as a tagged node of an encoded tree (both codecs' form): its
 * name, message, stack and primitive fields, and, `withCause`, its `cause`
 * and an AggregateError's `errors` encoded by `enc` (a failure there names
 * its path).
 *
 * @param created Called with the node before its parts are encoded (so a
 *   cycle through the cause can refer to it).
 */
export function errorNode(
  e: Error,
  enc: (value: unknown) => unknown,
  withCause: boolean,
  created?: (node: Tagged) => void,
): Tagged {
  const out: Tagged = { $t: "err", name: describe(e.name), message: describe(e.message) };
  created?.(out);
  if (typeof e.stack === "string") out.stack = e.stack;
  if (withCause) {
    if (hasOwn(e, "cause")) {
      try {
        out.cause = enc(e.cause);
      } catch (err) {
        addSegment(err, { prop: "cause" });
      }
    }
    if (e instanceof AggregateError && Array.isArray(e.errors)) {
      try {
        out.errors = enc(e.errors);
      } catch (err) {
        addSegment(err, { prop: "errors" });
      }
    }
  }
  const props = errorProps(e);
  if (props !== undefined) out.props = props;
  return out;
}

/** Primitive error fields worth keeping beyond name, message, stack, cause. */
export function errorProps(e: Error): ErrorData["props"] {
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

export function stripTag(t: Tagged): ErrorData {
  const { $t: _, ...data } = t;
  return data as unknown as ErrorData;
}

export const builtinErrors: Record<string, new (message: string) => Error> = {
  Error,
  EvalError,
  RangeError,
  ReferenceError,
  SyntaxError,
  TypeError,
  URIError,
};

/** Builds an error from an "err" node, without its cause and errors. */
export function newError(node: Tagged): Error {
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
