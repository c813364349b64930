// Copyright the multiproc authors. MIT license.
/**
 * The copies of pipe ends that a start message (of a process or thread) or
 * a pool task lends to its receiver (see `queue/_end_copy.ts`): each is
 * adopted when the receiver revives its arguments. A receiver that dies
 * before that (killed while it starts, or its target's module failed to
 * load), or a task that is never sent (cancelled, or its pool terminated),
 * never adopts them, and an end lent that way would stay open for good, its
 * reader waiting forever; so the sender, once it has seen the receiver end
 * or dropped the task, lets them lapse ({@linkcode lapseLoans}), as a dead
 * Python child's inherited descriptors close with it. A loan that was
 * adopted is unaffected.
 *
 * @module
 */

import { eachQuietly, Noting } from "./noting.ts";

/** A copy lent to a receiver that may die before adopting it. */
export interface Loan {
  /**
   * Its receiver has ended (process `pid`, if another process), or the
   * message was never sent: the copy goes unless it was adopted (once its
   * hub has handled all that the receiver process sent).
   */
  lapse(pid?: number): void;
  /**
   * The message that lent it was never made (its encoding threw): the
   * lender keeps its copy, as if it had never lent it.
   */
  cancel(): void;
}

const noting = new Noting<Loan>();

/** Notes a copy lent by the encoding under way, if that notes them (see {@linkcode encodingLoans}). */
export function noteLoan(loan: Loan): void {
  noting.note(loan);
}

/**
 * Runs `encode` (synchronous), noting into `into` the copies it lends (and
 * into the enclosing encoding's list, if any, once it returns). An encoding
 * that throws is never sent: the copies it lent go back to their lenders,
 * as if never lent. Every encoding of the codec runs inside one, so that a
 * value that cannot cross leaves the pipe ends before it as they were.
 */
export function encodingLoans<T>(into: Loan[], encode: () => T): T {
  const from = into.length;
  try {
    return noting.during(into, encode);
  } catch (error) {
    cancelLoans(into.splice(from));
    throw error;
  }
}

/** The message that lent `loans` was never sent (it failed, or its receiver could not start): they go back. */
export function cancelLoans(loans: readonly Loan[]): void {
  eachQuietly(loans, (loan) => loan.cancel());
}

/**
 * Sends, with `send`, a message that lent `loans`: if it throws (the
 * receiver could not be started), they go back, as if never lent.
 */
export function sendingLoans<T>(loans: readonly Loan[], send: () => T): T {
  try {
    return send();
  } catch (error) {
    cancelLoans(loans);
    throw error;
  }
}

/**
 * Runs `encode` (synchronous) for its errors alone: what it makes is never
 * sent, so the copies it lends go back whether it throws or not.
 */
export function trialEncoding<T>(encode: () => T): T {
  const lent: Loan[] = [];
  try {
    return noting.during(lent, encode);
  } finally {
    cancelLoans(lent);
  }
}

/**
 * The receiver of `loans` has ended (process `pid`, if another process; a
 * thread after its goodbye), or they were never sent: those it did not
 * adopt lapse.
 */
export function lapseLoans(loans: readonly Loan[], pid?: number): void {
  eachQuietly(loans, (loan) => loan.lapse(pid));
}
