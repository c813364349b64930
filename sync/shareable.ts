/**
 * How shared primitives cross to other processes and threads as live
 * objects, and how a class of your own does too: implement
 * {@linkcode Shareable} and register its reviver.
 *
 * @module
 */

export {
  type HandleData,
  registerReviver,
  reviveHandle,
  type Shareable,
  toHandle,
} from "../_internal/handles.ts";
