// Copyright the multiproc authors. MIT license.
/**
 * How `Queue`, `SimpleQueue` and `JoinableQueue` are built from a handle:
 * one {@linkcode Reviving} slot for the three, read by `Queue`'s constructor
 * (see `_internal/revive.ts`).
 *
 * @module
 */

import type { HandleData } from "../_internal/handles.ts";
import { Reviving } from "../_internal/revive.ts";
import type { HubHandle } from "../_internal/shared.ts";

/** The handle a Queue (or subclass) is being revived from. */
export const queueRevival: Reviving<HubHandle> = new Reviving<HubHandle>();

/**
 * Revives a handle as an instance of `cls` (Queue or a subclass), without
 * running the validation of its constructor.
 *
 * @param cls The class, whose constructor takes no arguments.
 * @param handle The handle data.
 * @returns The instance.
 */
export function reviveQueue<Q>(cls: new () => Q, handle: HandleData): Q {
  return queueRevival.construct(handle as HubHandle, () => new cls());
}
