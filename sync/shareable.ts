/**
 * How shared primitives cross to other processes and threads.
 *
 * @module
 */

export { type HandleData, type Shareable, toHandle } from "../_internal/codec.ts";
