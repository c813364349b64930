// Copyright the multiproc authors. MIT license.
/**
 * The copies of one end of a pipe that sessions (processes and threads)
 * hold, as a file descriptor's copies across processes in Python: the end
 * is open while any copy is, and closes when the last one is closed or its
 * session ends.
 *
 * - A session that creates the end holds a copy (`hold`).
 * - Handing the end to another process or thread lends a copy (`lend`),
 *   pending until the receiver adopts it (`adopt`); a lender whose own copy
 *   was in use moves it (Python's idiom: the parent closes its copy after
 *   `start()`, and a parent that never uses the child's end again does not
 *   keep it open either). A copy adopted before its lending was recorded
 *   (the receiver's request came first) counts once.
 * - `release` (`close()`) and the end of a session drop its copies; a
 *   session's pending loans end with it, as Python's resource sharer's
 *   descriptors end with their process.
 * - A loan whose receiver died before adopting it (killed while starting,
 *   or its target's module failed to load) lapses (`lapse`), as the
 *   descriptor a dead Python child inherited closes with it.
 *
 * @module
 */

import type { Owner } from "./common.ts";

/** The copies of one end: counts per session, and the loans not adopted yet. */
export class EndCopies {
  /** Copies each session holds. */
  #held = new Map<Owner, number>();
  /** Loans not adopted yet, by token: their lenders. */
  #lent = new Map<string, Owner>();
  /** Tokens adopted before their loan was recorded. */
  #early = new Set<string>();

  /** Whether any copy is held or lent. */
  get open(): boolean {
    return this.#held.size > 0 || this.#lent.size > 0;
  }

  /** How many copies are held or lent. */
  get count(): number {
    let n = this.#lent.size;
    for (const held of this.#held.values()) n += held;
    return n;
  }

  /** `owner` holds one more copy. */
  hold(owner: Owner): void {
    this.#held.set(owner, (this.#held.get(owner) ?? 0) + 1);
  }

  /**
   * `owner` hands a copy on, under `token`; `moves`: the copy it held goes
   * with it (it holds one fewer).
   *
   * @returns Whether the end is still open (a move of the last copy adopted early closes it).
   */
  lend(owner: Owner, token: string, moves: boolean): boolean {
    if (moves) this.#drop(owner);
    if (this.#early.delete(token)) return this.open;
    this.#lent.set(token, owner);
    return true;
  }

  /** `owner` revived the copy lent under `token`: it holds it now. */
  adopt(owner: Owner, token: string): void {
    if (!this.#lent.delete(token)) this.#early.add(token);
    this.hold(owner);
  }

  /**
   * The copy lent under `token` will never be adopted (its receiver died
   * first): it goes. Nothing changes if it was adopted.
   *
   * @returns Whether the end is still open; `undefined` if no loan was
   *   pending under `token` (it was adopted).
   */
  lapse(token: string): boolean | undefined {
    return this.#lent.delete(token) ? this.open : undefined;
  }

  /**
   * `owner` closed a copy.
   *
   * @returns Whether the end is still open.
   */
  release(owner: Owner): boolean {
    this.#drop(owner);
    return this.open;
  }

  /**
   * `owner`'s session ended: its copies and its loans not adopted yet go.
   *
   * @returns Whether the end is still open.
   */
  leave(owner: Owner): boolean {
    this.#held.delete(owner);
    for (const [token, lender] of this.#lent) if (lender === owner) this.#lent.delete(token);
    return this.open;
  }

  #drop(owner: Owner): void {
    const held = this.#held.get(owner) ?? 0;
    if (held <= 1) this.#held.delete(owner);
    else this.#held.set(owner, held - 1);
  }
}
