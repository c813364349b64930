/**
 * The Node adapter's stream sockets, TCP or Unix: a `net.Socket` with Deno's
 * `read(into)` semantics and a `net.Server` with Deno's `accept()`, wrapped
 * as {@linkcode NetConn} and {@linkcode NetListener} for `tcp.ts` and
 * `unix_sockets.ts`.
 *
 * @module
 */

import * as net from "node:net";
import type { NetConn, NetListener, SocketAddress } from "../../runtime_types.ts";
import { errorCode } from "../common.ts";

/** An error for an operation on a socket this side has closed (Deno's `BadResource`). */
function closedError(what: string): Error {
  const error = new Error(`Cannot ${what} as the connection is closed`);
  error.name = "BadResource";
  (error as NodeJS.ErrnoException).code = "ERR_SOCKET_CLOSED";
  return error;
}

/** Buffered reads from a Node socket with Deno's `read(into)` semantics. */
class SocketReader {
  #socket: net.Socket;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  #error: unknown;
  #waiters: (() => void)[] = [];
  closed = false;
  static readonly HIGH_WATER = 1 << 20;

  constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
      // Backpressure: stop reading from the kernel while nobody consumes.
      if (this.#buffered > SocketReader.HIGH_WATER) socket.pause();
      this.#wake();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#wake();
    });
    socket.on("error", (error) => {
      this.#error ??= error;
      this.#wake();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Rejects pending reads: this side closed the connection. */
  close(): void {
    this.closed = true;
    this.#wake();
  }

  async read(into: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.closed) throw closedError("read");
      if (this.#chunks.length > 0) {
        const chunk = this.#chunks[0];
        const n = Math.min(chunk.length, into.length);
        into.set(chunk.subarray(0, n));
        if (n === chunk.length) this.#chunks.shift();
        else this.#chunks[0] = chunk.subarray(n);
        this.#buffered -= n;
        if (
          this.#buffered <= SocketReader.HIGH_WATER && this.#socket.isPaused()
        ) {
          this.#socket.resume();
        }
        return n;
      }
      if (this.#error !== undefined) {
        const error = this.#error;
        // A reset peer is an end of stream for a reader that has seen all the data.
        if (errorCode(error) === "ECONNRESET" || errorCode(error) === "EPIPE") {
          return null;
        }
        throw error;
      }
      if (this.#ended) return null;
      if (into.length === 0) return 0;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** The next chunk as it arrived (for `readable`), or `null` at the end. */
  async readChunk(): Promise<Uint8Array | null> {
    const buf = new Uint8Array(64 * 1024);
    const n = await this.read(buf);
    return n === null ? null : buf.slice(0, n);
  }
}

function writeAll(socket: net.Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || !socket.writable) {
      reject(closedError("write"));
      return;
    }
    socket.write(bytes, (error) => (error ? reject(error) : resolve()));
  });
}

export function connectSocket(options: net.NetConnectOpts): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ ...options, allowHalfOpen: true });
    const onError = (error: Error) => reject(error);
    socket.once("error", onError);
    socket.once("connect", () => {
      socket.off("error", onError);
      resolve(socket);
    });
  });
}

/** Accepted sockets of a `net.Server`, handed out one `accept()` at a time. */
class AcceptQueue {
  #ready: net.Socket[] = [];
  #waiters: {
    resolve(socket: net.Socket): void;
    reject(error: unknown): void;
  }[] = [];
  #error: unknown;

  constructor(server: net.Server) {
    server.on("connection", (socket: net.Socket) => {
      // Until accept() takes it, a connection is not read from (as in Deno's backlog).
      const waiter = this.#waiters.shift();
      if (waiter) waiter.resolve(socket);
      else this.#ready.push(socket);
    });
    server.on("error", (error) => {
      // While listening, an error is one failed accept (EMFILE…): libuv keeps listening, so it
      // is reported to one accept() call and the next ones go on. Otherwise listening failed.
      if (server.listening) this.#waiters.shift()?.reject(error);
      else this.fail(error);
    });
    server.on("close", () => this.fail(closedError("accept")));
  }

  fail(error: unknown): void {
    this.#error ??= error;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(this.#error);
    for (const socket of this.#ready.splice(0)) socket.destroy();
  }

  accept(): Promise<net.Socket> {
    const socket = this.#ready.shift();
    if (socket) return Promise.resolve(socket);
    if (this.#error !== undefined) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }
}

export function wrapNetConn(socket: net.Socket, unixPath?: string): NetConn {
  if (unixPath === undefined) socket.setNoDelay(true);
  const reader = new SocketReader(socket);
  const tcpAddr = (
    hostname: string | undefined,
    port: number | undefined,
  ): SocketAddress => ({
    transport: "tcp",
    hostname: hostname ?? "",
    port: port ?? 0,
  });
  const localAddr = unixPath !== undefined
    ? { transport: "unix" as const, path: unixPath }
    : tcpAddr(socket.localAddress, socket.localPort);
  const remoteAddr = unixPath !== undefined
    ? { transport: "unix" as const, path: "" }
    : tcpAddr(socket.remoteAddress, socket.remotePort);
  let readable: ReadableStream<Uint8Array> | undefined;
  let writable: WritableStream<Uint8Array> | undefined;
  const closeWrite = () =>
    new Promise<void>((resolve) => {
      if (socket.destroyed || socket.writableEnded) return resolve();
      socket.end(() => resolve());
    });
  const conn: NetConn = {
    localAddr,
    remoteAddr,
    get readable() {
      return readable ??= new ReadableStream<Uint8Array>({
        async pull(controller) {
          try {
            const chunk = await reader.readChunk();
            if (chunk === null) controller.close();
            else controller.enqueue(chunk);
          } catch (error) {
            controller.error(error);
          }
        },
        cancel: () => conn.close(),
      });
    },
    get writable() {
      return writable ??= new WritableStream<Uint8Array>({
        write: (chunk) => writeAll(socket, chunk),
        close: () => conn.close(),
        abort: () => conn.close(),
      });
    },
    read: (into) => reader.read(into),
    write: async (bytes) => {
      await writeAll(socket, bytes);
      return bytes.length;
    },
    closeWrite,
    close() {
      reader.close();
      socket.destroy();
    },
    ref: () => void socket.ref(),
    unref: () => void socket.unref(),
  };
  return conn;
}

export function wrapNetListener(
  server: net.Server,
  addr: () => SocketAddress,
  unixPath?: string,
): NetListener {
  const queue = new AcceptQueue(server);
  let closed = false;
  return {
    get addr() {
      return addr();
    },
    accept: async () => wrapNetConn(await queue.accept(), unixPath),
    close() {
      if (closed) return;
      closed = true;
      queue.fail(closedError("accept"));
      server.close();
    },
    ref: () => void server.ref(),
    unref: () => void server.unref(),
  };
}
