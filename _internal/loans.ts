// Copyright the multiproc authors. MIT license.
/**
 * The copies of pipe ends that a start message lends to a child (see
 * `queue/_end_copy.ts`): each is adopted when the child revives its
 * arguments. A child that dies before that (killed while it starts, or its
 * target's module failed to load) never adopts them, and an end lent that
 * way would stay open for good, its reader waiting forever; so the parent,
 * once it has seen the child exit, lets them lapse
 * ({@linkcode lapseLoans}), as a dead Python child's inherited descriptors
 * close with it. A loan the child adopted is unaffected.
 *
 * @module
 */

import { eachQuietly, Noting } from "./noting.ts";

/** A copy lent to a receiver that may die before adopting it. */
export interface Loan {
  /**
   * Its receiver, process `pid`, has exited: the copy goes unless it was
   * adopted (once its hub has handled all that the receiver sent).
   */
  lapse(pid: number): void;
}

const noting = new Noting<Loan>();

/** Notes a copy lent by the encoding under way, if it is a start message's (see {@linkcode encodingLoans}). */
export function noteLoan(loan: Loan): void {
  noting.note(loan);
}

/** Runs `encode` (synchronous), noting into `into` the copies it lends. */
export function encodingLoans<T>(into: Loan[], encode: () => T): T {
  return noting.during(into, encode);
}

/** The receiver of `loans`, process `pid`, has exited: those it did not adopt lapse. */
export function lapseLoans(loans: readonly Loan[], pid: number): void {
  eachQuietly(loans, (loan) => loan.lapse(pid));
}
