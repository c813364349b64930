/**
 * Checking a `timeout` option of the pool classes.
 *
 * @module
 */

/**
 * Checks a timeout in milliseconds.
 *
 * @throws {RangeError} If it is NaN, negative or not a number.
 */
export function checkTimeout(timeout: unknown, describe: string): void {
  if (timeout === undefined) return;
  if (typeof timeout !== "number" || Number.isNaN(timeout) || timeout < 0) {
    throw new RangeError(
      `${describe} as the timeout is not a non-negative number of milliseconds: received ${
        typeof timeout === "number" ? String(timeout) : typeof timeout
      }`,
    );
  }
}
