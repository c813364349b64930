/**
 * `Barrier`: Python's `multiprocessing.Barrier` (and `threading.Barrier`).
 *
 * @module
 */

import { type HandleData, registerReviver, type Shareable, toHandle } from "../_internal/codec.ts";
import { mainModuleUrl } from "../_internal/runtime.ts";
import {
  bindHubObject,
  checkTimeout,
  createHubObject,
  type HubBinding,
  type HubHandle,
  hubHandle,
  postShowing,
  readStatus,
  settled,
  type StatusValues,
} from "../_internal/shared.ts";
import { importTarget } from "../_internal/import_target.ts";
import { BARRIER_SLOTS } from "../_internal/status_slots.ts";
import { callerModule, resolveTarget, type TargetRef } from "../_internal/target.ts";
import type { WaitOptions } from "../_internal/wait.ts";
import { Reviving } from "../_internal/revive.ts";

export { BrokenBarrierError } from "../_internal/errors.ts";

/**
 * Options for {@linkcode Barrier}.
 *
 * @example
 * ```ts
 * import { Barrier, type BarrierOptions } from "@multiproc/multiproc";
 * import { equal } from "node:assert/strict";
 *
 * let actions = 0;
 * const options: BarrierOptions = { action: () => actions++, timeout: 60_000 };
 * const barrier = new Barrier(2, options);
 * await Promise.all([barrier.wait(), barrier.wait()]);
 * equal(actions, 1); // run once, by the last party to arrive
 * ```
 */
export interface BarrierOptions {
  /**
   * Called by exactly one of the parties (in whichever process or thread
   * arrives last) before the others are released. Must be an **exported**
   * function if the barrier is shared with other processes.
   */
  action?: () => unknown;
  /** Default timeout (ms) of every `wait()`. */
  timeout?: number;
}

/**
 * Options for {@linkcode Barrier.wait}: the {@linkcode WaitOptions} of every
 * blocking call. When `timeout` passes, the barrier breaks and `wait()`
 * rejects with `BrokenBarrierError`.
 *
 * @example
 * ```ts
 * import { Barrier, type BarrierWaitOptions, BrokenBarrierError } from "@multiproc/multiproc";
 * import { rejects } from "node:assert/strict";
 *
 * const barrier = new Barrier(2);
 * const options: BarrierWaitOptions = { timeout: 10 };
 * // The second party never comes: the wait times out and breaks the barrier.
 * await rejects(barrier.wait(options), BrokenBarrierError);
 * ```
 */
export type BarrierWaitOptions = WaitOptions;

/** The handle a Barrier is being revived from, see `_internal/revive.ts`. */
const revival = new Reviving<HubHandle & { action?: TargetRef }>();

/**
 * A barrier for a fixed number of parties: each `wait()` blocks until
 * `parties` callers are waiting, then all are released together.
 *
 * - `wait()` resolves to a distinct index in `0 … parties-1`.
 * - A `wait()` timeout, `abort()`, an action that throws, or a party that
 *   dies while waiting breaks the barrier: every waiter rejects with
 *   {@linkcode BrokenBarrierError}, and so does every later `wait()` until
 *   `reset()`.
 *
 * @example Three parties
 * ```ts
 * import { Barrier } from "@multiproc/multiproc";
 * import { deepEqual } from "node:assert/strict";
 *
 * const barrier = new Barrier(3);
 * // Each wait() resolves once all three are waiting, with a distinct index.
 * const indexes = await Promise.all([barrier.wait(), barrier.wait(), barrier.wait()]);
 * deepEqual(indexes.sort(), [0, 1, 2]);
 * ```
 */
export class Barrier implements Shareable {
  #b: HubBinding;
  #parties: number;
  #action: (() => unknown) | undefined;
  #actionRef: TargetRef | undefined;
  #caller: string | undefined;

  /**
   * Creates a barrier.
   *
   * @param parties How many callers must wait before all are released.
   * @param options `action` and default `timeout`.
   * @throws {RangeError} If `parties` is not a positive integer.
   */
  constructor(parties: number, options: BarrierOptions = {}) {
    const reviving = revival.data;
    if (reviving) {
      this.#b = bindHubObject(reviving);
      this.#parties = (reviving.params as { parties: number }).parties;
      this.#actionRef = reviving.action as TargetRef | undefined;
      return;
    }
    if (!Number.isInteger(parties) || parties < 1) {
      throw new RangeError(
        `Cannot create barrier as parties must be an integer >= 1: received ${parties}`,
      );
    }
    checkTimeout(options.timeout, "create barrier");
    if (options.action !== undefined && typeof options.action !== "function") {
      throw new TypeError("Cannot create barrier as action is not a function");
    }
    this.#parties = parties;
    this.#action = options.action;
    this.#caller = callerModule();
    this.#b = createHubObject("barrier", {
      parties,
      hasAction: options.action !== undefined,
      timeout: options.timeout,
    });
  }

  static {
    registerReviver(
      "barrier",
      (data) => revival.construct(data as HubHandle & { action?: TargetRef }, () => new Barrier(1)),
    );
  }

  /** The number of parties. */
  get parties(): number {
    return this.#parties;
  }

  /** How many callers are waiting now (a snapshot). */
  get nWaiting(): number {
    return readStatus(this.#b, BARRIER_SLOTS.waiting);
  }

  /** Whether the barrier is broken. */
  get broken(): boolean {
    return readStatus(this.#b, BARRIER_SLOTS.broken) === 1;
  }

  /**
   * Waits until all parties are waiting.
   *
   * @param options `timeout` (ms; breaks the barrier when it expires) and `signal`.
   * @returns This caller's index, `0 … parties-1`.
   * @throws {BrokenBarrierError} If the barrier is or becomes broken.
   */
  async wait(options: BarrierWaitOptions = {}): Promise<number> {
    checkTimeout(options.timeout, "wait on barrier");
    const [index, runAction] = await settled(this.#b).call(
      "barrier.wait",
      this.#b.id,
      [],
      options,
    ) as [
      number,
      boolean,
    ];
    if (runAction) {
      try {
        await (await this.#resolveAction())();
      } catch (error) {
        this.#b.client.post("barrier.actionDone", this.#b.id, [false]);
        throw error;
      }
      this.#b.client.post("barrier.actionDone", this.#b.id, [true]);
    }
    return index;
  }

  async #resolveAction(): Promise<() => unknown> {
    if (this.#action) return this.#action;
    const ref = this.#actionRef!;
    const action = await importTarget(ref, "Cannot run barrier action", "action") as () => unknown;
    return this.#action = action;
  }

  /** Breaks the barrier: current and future waiters reject with BrokenBarrierError until `reset()`. */
  abort(): void {
    // Seen at once by `broken` in this process, as in Python.
    postShowing(this.#b, "barrier.abort", [], [[BARRIER_SLOTS.broken, 1]]);
  }

  /** Returns the barrier to its initial state; current waiters reject with BrokenBarrierError. */
  reset(): void {
    postShowing(this.#b, "barrier.reset", [], [
      [BARRIER_SLOTS.broken, 0],
      [BARRIER_SLOTS.waiting, 0],
    ]);
  }

  /**
   * Describes this barrier for another process or thread.
   *
   * @throws {TypeError} If it has an action that is not exported.
   */
  [toHandle](_dest?: "process" | "thread"): HandleData {
    let action = this.#actionRef;
    if (!action && this.#action) {
      const ref = resolveTarget(
        this.#action,
        this.#caller,
        mainModuleUrl(),
        "Cannot share barrier",
      );
      if (ref instanceof Promise) {
        throw new TypeError(
          "Cannot share barrier as its action is defined in a remote module: pass an action from a local module",
        );
      }
      action = this.#actionRef = ref;
    }
    const status: StatusValues = [
      [BARRIER_SLOTS.waiting, this.nWaiting],
      [BARRIER_SLOTS.broken, this.broken ? 1 : 0],
    ];
    return { ...hubHandle(this.#b, import.meta.url, status), action };
  }
}
