/**
 * Helpers of the Node TcpServer tests: a client whose every read has a
 * deadline, a server that records what it would log, and the modes this
 * Node.js can serve in.
 */
import net from "node:net";
import { TcpServer } from "./_pkg.mjs";
import { faulty } from "./fixtures/net_handlers.mjs";
import { sleep } from "./_helpers.mjs";

/** Rejects with "`what` took more than `ms` ms" unless `promise` settles first (the timer is cleared). */
export async function within(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A client of 127.0.0.1 that buffers what arrives; a reset counts as end of stream. */
export class Client {
  #socket;
  #chunks = [];
  #ended = false;
  #wake = () => {};

  constructor(socket) {
    this.#socket = socket;
    socket.on("data", (data) => {
      this.#chunks.push(String(data));
      this.#wake();
    });
    const end = () => {
      this.#ended = true;
      this.#wake();
    };
    socket.on("end", end);
    socket.on("close", end);
    socket.on("error", end);
  }

  /** Connects to `port` on 127.0.0.1; rejects (e.g. ECONNREFUSED) if it cannot. */
  static connect(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
      socket.once("connect", () => {
        socket.off("error", reject);
        resolve(new Client(socket));
      });
      socket.once("error", reject);
    });
  }

  /** This client's own port. */
  get port() {
    return this.#socket.localPort;
  }

  /** Sends `text`. */
  send(text) {
    return new Promise((resolve, reject) =>
      this.#socket.write(text, (error) => (error ? reject(error) : resolve()))
    );
  }

  /** What has arrived since the last read, `null` at end of stream; rejects after `ms` without either. */
  read(ms = 60_000) {
    const take = () => {
      if (this.#chunks.length > 0) return this.#chunks.splice(0).join("");
      return this.#ended ? null : undefined;
    };
    const now = take();
    if (now !== undefined) return Promise.resolve(now);
    return within(
      new Promise((resolve) => {
        this.#wake = () => {
          const got = take();
          if (got !== undefined) {
            this.#wake = () => {};
            resolve(got);
          }
        };
      }),
      ms,
      "reading a reply",
    ).finally(() => (this.#wake = () => {}));
  }

  /** Sends `text` and reads until as many characters came back (an upper-case echo), or the end. */
  async echo(text) {
    await this.send(text);
    let reply = "";
    while (reply.length < text.length) {
      const part = await this.read();
      if (part === null) return reply || null;
      reply += part;
    }
    return reply;
  }

  /** Sends `text` and returns the next read. */
  async roundTrip(text) {
    await this.send(text);
    return await this.read();
  }

  /** Closes this side for writing (the server reads end of stream). */
  closeWrite() {
    return new Promise((resolve) => this.#socket.end(resolve));
  }

  /** Closes the connection. */
  close() {
    this.#socket.destroy();
  }
}

/** Whether no reply arrives within `ms` (only ever a false pass on a slow machine, never a false failure). */
export async function staysSilent(client, ms) {
  try {
    await client.read(ms);
    return false;
  } catch (error) {
    return error instanceof Error && error.message.includes("took more than");
  }
}

/** A server that records what it would log. */
export class RecordingServer extends TcpServer {
  errors = [];
  handleError(error, client) {
    this.errors.push({ error, client });
  }
}

/** Starts a recording server with the `faulty` handler on a free port, serving in the background. */
export async function startServer(options) {
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
    async dispose() {
      await within(server.shutdown({ timeout: 1000 }), 30_000, "shutdown");
      await serving;
    },
  };
}

/** Runs `fn(s)` with a started server `s` and shuts it down afterwards, whatever happened. */
export async function withServer(options, fn) {
  const s = await startServer(options);
  try {
    await fn(s);
  } finally {
    await s.dispose();
  }
}

/** Connects and echoes until it works (a prefork child that just died may still hold the port). */
export async function servedClient(port, text) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    let client;
    try {
      client = await Client.connect(port);
      const reply = await client.echo(text);
      if (reply === text.toUpperCase()) return client;
      if (Date.now() > deadline) throw new Error(`No echo after 30 s: ${reply}`);
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    client?.close();
    await sleep(100);
  }
}

/** Whether this Node.js can share a port with reusePort (Linux SO_REUSEPORT): 22.12 / 23.1 on. */
const [major, minor] = process.versions.node.split(".").map(Number);
export const hasReusePort = major > 23 || (major === 23 && minor >= 1) ||
  (major === 22 && minor >= 12);

/** Modes this Node.js can serve in. */
export const MODES = hasReusePort
  ? ["async", "thread", "process", "prefork-process", "prefork-thread"]
  : ["async", "thread", "process"];
