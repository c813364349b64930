/** What the TcpServer tests share: starting a server, a line-echo client, captured logs, bounded waits. */
import { type ServerMode, type TcpAddress, TcpServer, type TcpServerOptions } from "../mod.ts";
import { faulty } from "./fixtures/net_handlers.ts";

export const encoder = new TextEncoder();

export const decoder = new TextDecoder();

/** Fails the test instead of hanging when `promise` takes longer than `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A server that records what it would log. */
export class RecordingServer extends TcpServer {
  errors: { error: Error; client: TcpAddress }[] = [];
  override handleError(error: Error, client: TcpAddress): void {
    this.errors.push({ error, client });
  }
}

/** A recording server serving in the background; `await using` shuts it down. */
export interface StartedServer extends AsyncDisposable {
  server: RecordingServer;
  port: number;
  serving: Promise<void>;
}

/** Starts a recording server on a free port, serving in the background. */
export async function startServer(
  options: Partial<TcpServerOptions> & { mode: ServerMode },
): Promise<StartedServer> {
  const server = new RecordingServer({
    port: 0,
    handler: faulty,
    workers: options.mode.startsWith("prefork") ? 2 : 1,
    ...options,
  });
  const address = await within(server.listening, 60_000, "binding");
  const serving = server.serveForever();
  return {
    server,
    port: address.port,
    serving,
    async [Symbol.asyncDispose]() {
      await within(server.shutdown({ timeout: 1000 }), 30_000, "shutdown");
      await serving;
    },
  };
}

/** A test client with a read deadline on every read. */
export class Client {
  #conn: Deno.Conn;
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }

  static async connect(port: number): Promise<Client> {
    return new Client(await Deno.connect({ hostname: "127.0.0.1", port }));
  }

  get port(): number {
    return (this.#conn.localAddr as Deno.NetAddr).port;
  }

  async send(text: string): Promise<void> {
    await this.#conn.write(encoder.encode(text));
  }

  /**
   * One read: a reply, or `null` at end of stream (a reset counts as end of
   * stream). A read that timed out stays pending, and the next call takes it over.
   */
  async read(ms = 60_000): Promise<string | null> {
    this.#pending ??= this.#readOnce();
    const pending = this.#pending;
    const result = await within(pending, ms, "reading a reply");
    this.#pending = undefined;
    return result;
  }

  #pending: Promise<string | null> | undefined;

  async #readOnce(): Promise<string | null> {
    const buf = new Uint8Array(1024);
    try {
      const n = await this.#conn.read(buf);
      return n === null ? null : decoder.decode(buf.subarray(0, n));
    } catch (error) {
      if (error instanceof Deno.errors.ConnectionReset) return null;
      throw error;
    }
  }

  /** Sends `text` and reads until as many bytes came back (an upper-case echo). */
  async echo(text: string): Promise<string | null> {
    await this.send(text);
    let reply = "";
    while (reply.length < text.length) {
      const part = await this.read();
      if (part === null) return reply || null;
      reply += part;
    }
    return reply;
  }

  async roundTrip(text: string): Promise<string | null> {
    await this.send(text);
    return await this.read();
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
