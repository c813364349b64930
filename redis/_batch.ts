/**
 * Natural batching of one object's requests: the first request goes out at
 * once; those made while a batch is in flight wait and go out together in
 * the next one (at most `max` per batch). No request waits for a timer, so
 * a lone caller pays no latency, and many concurrent callers share one
 * round trip (one Lua script call) instead of one each.
 *
 * @module
 */

interface Pending<Q, R> {
  req: Q;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

/** Sends requests in batches through `send`, which answers one result per request, in order. */
export class Batcher<Q, R> {
  #queue: Pending<Q, R>[] = [];
  #busy = false;
  #send: (reqs: Q[]) => Promise<R[]>;
  #max: number;

  /**
   * @param send Sends a batch; resolves to one result per request, in order.
   * @param max The most requests per batch.
   */
  constructor(send: (reqs: Q[]) => Promise<R[]>, max = 256) {
    this.#send = send;
    this.#max = max;
  }

  /** Requests `req`; resolves with its result, or rejects with its batch's error. */
  run(req: Q): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ req, resolve, reject });
      if (!this.#busy) this.#next();
    });
  }

  #next(): void {
    const batch = this.#queue.splice(0, this.#max);
    if (batch.length === 0) {
      this.#busy = false;
      return;
    }
    this.#busy = true;
    let sent: Promise<R[]>;
    try {
      sent = this.#send(batch.map((p) => p.req));
    } catch (e) {
      sent = Promise.reject(e);
    }
    sent.then(
      (results) => batch.forEach((p, i) => p.resolve(results[i])),
      (e) => batch.forEach((p) => p.reject(e)),
    ).finally(() => this.#next());
  }
}
