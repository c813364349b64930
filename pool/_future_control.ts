/**
 * How an executor settles the `Future`s it hands out, without making those
 * methods public (Python documents `set_result` and friends as "for
 * executors and tests only"; here they are simply not on the class).
 *
 * @module
 */

/** What an executor can do to a future. */
export interface FutureControl<T = unknown> {
  /** The task was sent to a worker: `cancel()` no longer succeeds. */
  setRunning(): void;
  resolve(value: T): void;
  reject(error: Error): void;
  /** Called by `cancel()` on a pending future; returns whether the task was dropped. */
  onCancel(dropper: () => boolean): void;
  /** The error it finished with, if any (read synchronously). */
  error(): Error | null;
}

const controls = new WeakMap<object, FutureControl>();

/** Called by the Future constructor. */
export function registerFuture(future: object, control: FutureControl): void {
  controls.set(future, control);
}

/** The control of a future. */
export function controlOf<T>(future: object): FutureControl<T> {
  return controls.get(future) as FutureControl<T>;
}
