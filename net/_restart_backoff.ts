/**
 * When a prefork server restarts a child that died: at once, unless that
 * child's slot keeps crashing. A slot may crash {@linkcode FREE_RESTARTS}
 * times within {@linkcode CRASH_WINDOW_MS} and be restarted at once each
 * time; each further crash in the window doubles the wait, from
 * {@linkcode FIRST_DELAY_MS} up to {@linkcode MAX_DELAY_MS}. A slot that
 * has not crashed for a whole window (a healthy period) starts afresh.
 *
 * @module
 */

/** Crashes of one slot within the window that are each restarted at once. */
export const FREE_RESTARTS = 3;

/** How far back crashes count; a slot quiet for this long is healthy again. */
export const CRASH_WINDOW_MS = 10_000;

/** The wait before the first delayed restart. */
export const FIRST_DELAY_MS = 250;

/** The longest wait between restarts. */
export const MAX_DELAY_MS = 8_000;

/** The crash history of the slots of one server. */
export class RestartBackoff {
  #crashes = new Map<number, number[]>();

  /**
   * Records that the child in `slot` died at `now` (ms) and returns how
   * long to wait before starting its replacement: 0 for at once.
   */
  next(slot: number, now: number): number {
    const recent = (this.#crashes.get(slot) ?? []).filter((at) => now - at < CRASH_WINDOW_MS);
    recent.push(now);
    this.#crashes.set(slot, recent);
    const excess = recent.length - FREE_RESTARTS;
    return excess <= 0 ? 0 : Math.min(FIRST_DELAY_MS * 2 ** (excess - 1), MAX_DELAY_MS);
  }
}
