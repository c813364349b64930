/**
 * The local copy of a remote object's small state (size, flag, value…), kept
 * current by the messages every change publishes, so that the synchronous
 * reads of the local twins (`qsize()`, `isSet()`, `value`…) stay synchronous.
 * Waiting operations wait for its next change, or for a bounded slice of time
 * (a message lost during a reconnection costs one slice, never a hang).
 *
 * @module
 */

import type { Core } from "./_core.ts";
import type { WaitOptions } from "../_internal/wait.ts";

/** How long a waiting operation sleeps at most before it asks the server again. */
export const SLICE_MS = 200;

/** A change this object made, not yet answered by the server (see {@linkcode Mirror.own}). */
export interface OwnChange<S> {
  readonly patch: Partial<S>;
}

/**
 * A state copy plus the waiters for its next change.
 *
 * What the server says (loads, messages, replies) makes the base state; this
 * object's own changes that the server has not answered yet are shown over
 * it ({@linkcode Mirror.own}), as the server will apply them after anything
 * it said so far.
 */
export class Mirror<S extends object> {
  #base: S;
  #own: OwnChange<S>[] = [];
  #state: S;
  #waiters = new Set<() => void>();
  /** The messages heard by each load in flight (see {@linkcode Mirror.follow}). */
  #loads = new Set<Heard<S>[]>();

  constructor(initial: S) {
    this.#base = initial;
    this.#state = initial;
  }

  /** The last known state, with this object's own changes not answered yet. */
  get state(): S {
    return this.#state;
  }

  /** When the state last changed (`Date.now()`). */
  updatedAt: number = Date.now();

  #version = 0;

  /**
   * Replaces (part of) the state and wakes the waiters. With a `version`
   * (from a server reply or message), only if it is newer than the last
   * applied: messages and replies arrive over different connections, so an
   * older one can come after a newer one. Without one (a local estimate,
   * before Redis has answered), always.
   */
  update(patch: Partial<S>, version?: number): void {
    if (version !== undefined) {
      if (version <= this.#version) return;
      this.#version = version;
    }
    this.#base = { ...this.#base, ...patch };
    this.#changed();
  }

  /**
   * Shows a change this object sends to the server, at once and over what
   * the server says until {@linkcode Mirror.answered}: a load or message
   * from before the change reached the server does not undo it.
   */
  own(patch: Partial<S>): OwnChange<S> {
    const change = { patch };
    this.#own.push(change);
    this.#changed();
    return change;
  }

  /**
   * The server answered `change`: with the version it applied it at, it
   * joins the base state as any versioned update; without (it failed), it
   * is dropped.
   */
  answered(change: OwnChange<S>, version?: number): void {
    this.#own = this.#own.filter((c) => c !== change);
    if (version !== undefined && version > this.#version) this.update(change.patch, version);
    else this.#changed();
  }

  #changed(): void {
    this.#state = this.#own.reduce((s, c) => ({ ...s, ...c.patch }), this.#base);
    this.updatedAt = Date.now();
    for (const w of [...this.#waiters]) w();
  }

  /**
   * Resolves at the next change or after `ms`; rejects when `signal` aborts.
   */
  changed(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        signal?.removeEventListener("abort", onAbort);
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#waiters.add(done);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /**
   * Subscribes to the object's channel and loads the state once subscribed
   * (so no change falls between the two); loads it again after a reconnection.
   */
  async follow(core: Core, channel: string, load: () => Promise<Loaded<S>>): Promise<void> {
    await core.listen(channel, (message) => {
      let parsed: Partial<S> & { ver?: number };
      try {
        parsed = JSON.parse(message);
      } catch {
        return; // Not ours.
      }
      const { ver, ...patch } = parsed;
      const version = typeof ver === "number" ? ver : undefined;
      for (const heard of this.#loads) heard.push({ patch: patch as Partial<S>, version });
      this.update(patch as Partial<S>, version);
    });
    core.onReconnect(() => {
      this.#load(load).catch(() => {});
    });
    await this.#load(load);
  }

  /**
   * Loads the state and applies it, then the messages heard meanwhile that
   * are newer than it: a message and the load's reply come over different
   * connections, so a change made after the load read the state can be heard
   * before the load's answer.
   */
  async #load(load: () => Promise<Loaded<S>>): Promise<void> {
    const heard: Heard<S>[] = [];
    this.#loads.add(heard);
    try {
      const loaded = await load();
      this.#reset(loaded);
      for (const { patch, version } of heard) {
        if (version === undefined || version > loaded.version) this.update(patch, version);
      }
    } finally {
      this.#loads.delete(heard);
    }
  }

  /** Applies a state read from the server (its version may be lower: the server restarted). */
  #reset({ state, version }: Loaded<S>): void {
    this.#version = version - 1;
    this.update(state, version);
  }
}

/** A message heard while a load was in flight. */
interface Heard<S> {
  patch: Partial<S>;
  version: number | undefined;
}

/** A state read from the server, with its version. */
export interface Loaded<S> {
  state: Partial<S>;
  version: number;
}

/** Options of a waiting remote operation. */
export type WaitSpec = WaitOptions;

/** How long past a call's timeout a server that does not answer is waited for. */
export const GRACE_MS = 2_000;

/** What a waiting operation does when the server does not answer in time. */
export interface Guard<T> {
  /** The operation, completing "Cannot …". */
  what: string;
  /** Undoes a result that arrives after the caller was told it failed (e.g. puts an item back). */
  late?: (value: T) => void;
}

/**
 * Calls `attempt` until it returns something other than `undefined`, waiting
 * between attempts for a change of `mirror` (at most `sliceMs`), and gives up
 * (returning `undefined`) when the timeout expires. The first attempt is
 * always made, so `{ timeout: 0 }` is a non-blocking try.
 *
 * With a `guard` and a timeout, an attempt the server has not answered
 * {@linkcode GRACE_MS} after the timeout (a connection cut without a reset,
 * a stopped server) rejects, so the call never hangs past its timeout; what
 * that attempt returns later goes to `guard.late`.
 */
export async function retryUntil<T, S extends object>(
  options: WaitSpec,
  mirror: Mirror<S>,
  attempt: (remainingMs: number) => Promise<T | undefined>,
  sliceMs = SLICE_MS,
  guard?: Guard<T>,
): Promise<T | undefined> {
  const { signal } = options;
  signal?.throwIfAborted();
  const deadline = options.timeout === undefined ? Infinity : Date.now() + options.timeout;
  for (;;) {
    const remaining = deadline - Date.now();
    const pending = attempt(Math.max(0, remaining));
    const result = guard && deadline !== Infinity
      ? await answeredBy(pending, deadline + GRACE_MS, options.timeout!, guard)
      : await pending;
    if (result !== undefined) return result;
    signal?.throwIfAborted();
    const left = deadline - Date.now();
    if (left <= 0) return undefined;
    await mirror.changed(Math.min(left, sliceMs), signal);
  }
}

/** `pending`, or a rejection at `at` (its later result then goes to `guard.late`). */
function answeredBy<T>(
  pending: Promise<T | undefined>,
  at: number,
  timeout: number,
  guard: Guard<T>,
): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `Cannot ${guard.what} as Redis did not answer within its timeout of ${timeout} ms ` +
            `(and ${GRACE_MS} ms more): the connection may be cut; what was sent may still ` +
            `take effect, and is undone if it does`,
        ),
      );
      pending.then((value) => {
        if (value !== undefined) guard.late?.(value);
      }, () => {});
    }, Math.max(0, at - Date.now()));
    pending.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
