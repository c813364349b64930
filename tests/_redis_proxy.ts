/**
 * A loopback TCP proxy in front of a test Redis server, whose client-to-server
 * bytes a test can hold back: what a client sends while held reaches the
 * server only once released. Used to drive an interleaving between
 * connections (a subscription still on its way while another connection
 * publishes) without timing.
 */

/** A running proxy; closed with every connection through it by `await using`. */
export interface RedisProxy extends AsyncDisposable {
  /** `redis://127.0.0.1:<proxy port>/0`. */
  readonly url: string;
  /** From now on, what clients send waits in the proxy (the server gets nothing more). */
  hold(): void;
  /** Forwards what was held, and everything after. */
  release(): void;
}

/** Starts a proxy to the server on `serverPort`. */
export function redisProxy(serverPort: number): RedisProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns = new Set<Deno.Conn>();
  const pumps: Promise<void>[] = [];
  let gate: PromiseWithResolvers<void> | undefined;

  const close = (c: Deno.Conn) => {
    if (!conns.delete(c)) return;
    try {
      c.close();
    } catch {
      // Already closed.
    }
  };

  async function pump(from: Deno.Conn, to: Deno.Conn, held: boolean): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        while (held && gate) await gate.promise;
        for (let at = 0; at < n;) at += await to.write(buf.subarray(at, n));
      }
    } catch {
      // One side closed: the other is closed below.
    } finally {
      close(from);
      close(to);
    }
  }

  const accepting = (async () => {
    for await (const client of listener) {
      conns.add(client);
      let server: Deno.Conn;
      try {
        server = await Deno.connect({ hostname: "127.0.0.1", port: serverPort });
      } catch {
        close(client);
        continue;
      }
      conns.add(server);
      pumps.push(pump(client, server, true), pump(server, client, false));
    }
  })().catch(() => {});

  const release = () => {
    const g = gate;
    gate = undefined;
    g?.resolve();
  };
  return {
    url: `redis://127.0.0.1:${(listener.addr as Deno.NetAddr).port}/0`,
    hold() {
      gate ??= Promise.withResolvers();
    },
    release,
    async [Symbol.asyncDispose]() {
      release();
      listener.close();
      await accepting;
      for (const c of [...conns]) close(c);
      await Promise.all(pumps);
    },
  };
}
