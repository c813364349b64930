/**
 * What every shared primitive has in common: where its state lives and how
 * it crosses a boundary as a handle.
 *
 * Two kinds of backing:
 * - **Hub objects** (Semaphore, Event, Condition, Barrier, queues): the state
 *   lives in the creating process's hub; the handle names the hub (socket,
 *   key, status file) and the object id, and the receiving side turns it
 *   back into an object connected to that hub.
 * - **File objects** (Lock, RLock, Value, SharedArray): the kernel is the
 *   hub. The handle names a file in the owner's private folder; every
 *   process and thread opens its own descriptor on it (flock for locking,
 *   positional reads and writes for values).
 *
 * @module
 */

import type { HandleData } from "./codec.ts";
import { runtimeDir } from "./context.ts";
import { type HubClient, hubClient, newObjectId, ownHub } from "./hub_client.ts";
import type { HubRef, Kind, ObjectOp, ObjectOps } from "./protocol.ts";
import type { StatusSlot } from "./status_slots.ts";
import {
  canMapShared,
  mapShared,
  openShared,
  type SharedFile,
  type SharedMapping,
} from "./runtime.ts";

/** The handle of a hub object. */
export interface HubHandle extends HandleData {
  /** The kind of state in the hub (`kind` is the reviver's, which may name a subclass). */
  hubKind: Kind;
  hub: HubRef;
  id: number;
  params: unknown;
  /** The object's status slots as the sender read them (see {@linkcode readStatus}). */
  status?: StatusValues;
}

/** Values of some status slots of one object, by slot. */
export type StatusValues = Array<[StatusSlot, number]>;

/** A connection to one hub object: its client, id, and how to (re)declare it. */
export interface HubBinding {
  client: HubClient;
  id: number;
  kind: Kind;
  params: unknown;
  /** The status its handle carried, until the hub has been asked to publish its own. */
  handed?: StatusValues;
}

/** Creates a new object on this process's hub. */
export function createHubObject(kind: Kind, params: unknown): HubBinding {
  const client = ownHub();
  const id = newObjectId();
  client.declare(id, kind, params);
  return { client, id, kind, params };
}

/** Connects to an object described by a handle. */
export function bindHubObject(handle: HubHandle): HubBinding {
  const client = hubClient(handle.hub);
  client.declare(handle.id, handle.hubKind, handle.params);
  const binding: HubBinding = {
    client,
    id: handle.id,
    kind: handle.hubKind,
    params: handle.params,
  };
  if (handle.status) binding.handed = handle.status;
  return binding;
}

/**
 * The handle that describes `binding` (for `[toHandle]`), with `status`, the
 * slots the receiver reads, as the sender sees them now.
 */
export function hubHandle(binding: HubBinding, module: string, status?: StatusValues): HubHandle {
  binding.client.ensureListening();
  const handle: HubHandle = {
    kind: binding.kind,
    hubKind: binding.kind,
    module,
    hub: binding.client.ref,
    id: binding.id,
    params: binding.params,
  };
  if (status) handle.status = status;
  return handle;
}

/** The operation that makes the hub publish an object's status slots, by kind. */
const PUBLISH = {
  event: "event.publish",
  semaphore: "semaphore.publish",
  barrier: "barrier.publish",
} as const;

/**
 * Reads status slot `slot` of a hub object. The first read of an object
 * revived from a handle that carried its status also asks the hub to
 * publish, and shows the handle's values until the hub has answered: the
 * receiver may read before the hub has handled what the sender did before
 * sending the handle (or even the object's creation), and must not see less.
 */
export function readStatus(binding: HubBinding, slot: StatusSlot): number {
  settleHanded(binding);
  return binding.client.status(binding.id, slot);
}

/**
 * Sends an operation that changes what a hub object publishes (see
 * `HubClient.postShowing`): until the hub has answered, this thread reads
 * `values` (by slot).
 */
export function postShowing<K extends ObjectOp>(
  binding: HubBinding,
  op: K,
  args: ObjectOps[K],
  values: StatusValues,
): void {
  settleHanded(binding); // Before: the handle's values must not replace this write's.
  binding.client.postShowing(op, binding.id, args, values);
}

/**
 * The binding's client, for any other operation: the handle's values (see
 * {@linkcode readStatus}) are shown only until the hub has answered this
 * process's first operation, since they may be stale after it.
 */
export function settled(binding: HubBinding): HubClient {
  settleHanded(binding);
  return binding.client;
}

function settleHanded(binding: HubBinding): void {
  const handed = binding.handed;
  if (!handed) return;
  binding.handed = undefined;
  // The publish request goes first: answered before the operation that follows it.
  binding.client.postShowing(PUBLISH[binding.kind as keyof typeof PUBLISH], binding.id, [], handed);
}

/** The handle of a file object. */
export interface FileHandle extends HandleData {
  path: string;
  params?: unknown;
}

/** A new file in this process's private folder for a file object. */
export function newSharedPath(kind: string): string {
  return `${runtimeDir()}/${kind}-${newObjectId()}`;
}

const collected = new FinalizationRegistry<SharedFile>((file) => file.close());

/** Closes `file` once `owner` is garbage collected (for objects nobody closed). */
export function closeWhenCollected(owner: object, file: SharedFile): void {
  collected.register(owner, file, file);
}

/** Stops watching `file` (it was closed explicitly). */
export function forgetCollected(file: SharedFile): void {
  collected.unregister(file);
}

/**
 * Opens a file object's file, with an error that says what happened when
 * its owner is gone (the owner's folder is removed when it exits).
 */
export function openSharedFile(path: string, what: string): SharedFile {
  try {
    return openShared(path);
  } catch (error) {
    throw new Error(
      `Cannot use ${what}: its file ${path} cannot be opened; the process that created it may have exited`,
      { cause: error },
    );
  }
}

/** The one `timeout` validator, where waiting is: imported from here by the primitives. */
export { checkTimeout } from "./wait.ts";

/**
 * Throws if an object its creator keeps in memory shared between processes
 * (`mapped`) arrives in a process that cannot map it: the choice is the
 * creator's, and every process sharing the object must make the same one.
 */
export function checkCanMap(mapped: boolean, what: string): void {
  if (!mapped || canMapShared()) return;
  throw new Error(
    `Cannot use this ${what}: the process that created it keeps it in memory shared between ` +
      `processes (Deno on Linux with --allow-ffi), and this one cannot map that memory. Give ` +
      `this process --allow-ffi (drop any --deny-ffi from its execArgv), or create the ${what} ` +
      `in a process started with MULTIPROC_SHARED_MEMORY=0 so it uses a file instead.`,
  );
}

const unmapped = new FinalizationRegistry<SharedMapping>((mapping) => mapping.unmap());

/** Maps the first `bytes` of `path` (see `mapShared`) for `owner`: unmapped once it is collected. */
export function mapForOwner(owner: object, path: string, bytes: number): SharedMapping {
  const mapping = mapShared(path, bytes);
  unmapped.register(owner, mapping, mapping);
  return mapping;
}

/** Unmaps a mapping of {@linkcode mapForOwner} now (its owner must not touch it again). */
export function unmapNow(mapping: SharedMapping): void {
  unmapped.unregister(mapping);
  mapping.unmap();
}
