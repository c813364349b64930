/**
 * The server side of "process" and "thread" modes: a pool of runners
 * (child processes or workers), each serving one connection at a time, and
 * the relay that carries a client's bytes between the TCP connection the
 * server accepted and the runner's Unix-socket connection.
 *
 * Deno cannot pass a socket to another process or thread, so the server
 * keeps the TCP connection and relays: per round trip the server reads and
 * writes each message twice (TCP in, Unix out, Unix in, TCP out). Runners
 * are started ahead of need (`spares` of them wait, already connected, so
 * a new client costs one header write, not a process start), and a runner
 * that has served `perRunner` connections exits and is replaced.
 *
 * @module
 */

import { errorFromData } from "../_internal/codec.ts";
import { cpuCount, type NetConn } from "../_internal/runtime.ts";
import type { TargetRef } from "../_internal/target.ts";
import { waitAtMost } from "../_internal/wait.ts";
import { ABORT_GRACE_MS, type Served } from "./_accept_loop.ts";
import { pump, readFrameFrom, tcpAddress, writeFrame } from "./_conn.ts";
import type { RunnerHub } from "./_hub.ts";
import type { RelayConfig, RelayHeader, RunnerMessage } from "./_runner.ts";
import { type Runner, type RunnerExit, spawnRunner } from "./_spawn.ts";
import type { ServerMode, TcpAddress } from "./types.ts";

const RUNNER_MODULE = new URL("./_runner.ts", import.meta.url).href;

/** A runner that has not connected back within this time is killed (a start-up failure). */
const STARTUP_TIMEOUT_MS = 60_000;

/** Runners started at the same time, at most (the very first one starts alone). */
const MAX_STARTING = Math.max(2, cpuCount());

/** After aborting, how long to wait for runners to exit before killing them. */
const KILL_WAIT_MS = 5000;

/** What the pool needs from its server. */
export interface PoolOptions {
  kind: "process" | "thread";
  /** Prefix of runner names, e.g. `TcpServer-1`. */
  name: string;
  handler: TargetRef;
  address: TcpAddress;
  mode: ServerMode;
  /** Runners kept started and idle, ready for the next connections. */
  spares: number;
  /** Connections a runner serves before it exits; 0 for no limit. */
  perRunner: number;
  denoArgs: readonly string[];
  hub: RunnerHub;
  /** Logs an error with the client it concerns (the server's `handleError`). */
  onError(error: Error, client: TcpAddress): void;
  /** Logs an error that concerns no client. */
  onLog(text: string): void;
  /** A handler called `server.shutdown()`. */
  onShutdownRequest(): void;
}

let nextJob = 0;

/** One accepted connection: queued, then relayed to a runner. */
class Job implements Served {
  readonly id = ++nextJob;
  readonly tcp: NetConn;
  readonly client: TcpAddress;
  readonly local: TcpAddress;
  state: "queued" | "assigning" | "relaying" | "closed" = "queued";
  readonly done: Promise<void>;
  #resolve!: () => void;
  #unix: NetConn | undefined;
  #up: Promise<unknown> = Promise.resolve();
  #down: Promise<unknown> = Promise.resolve();

  constructor(tcp: NetConn) {
    this.tcp = tcp;
    this.client = tcpAddress(tcp.remoteAddr.hostname, tcp.remoteAddr.port);
    this.local = tcpAddress(tcp.localAddr.hostname, tcp.localAddr.port);
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  /** Starts relaying between the client and the runner's data connection. */
  start(unix: NetConn): void {
    if (this.state === "closed") {
      unix.close();
      return;
    }
    this.state = "relaying";
    this.#unix = unix;
    // Client → handler; the client's end of stream (or reset) reaches the handler as end of stream.
    this.#up = pump(this.tcp, unix).then(() => unix.closeWrite().catch(() => {}));
    // Handler → client; the handler's closeWrite() reaches the client as end of stream.
    this.#down = pump(unix, this.tcp).then((end) => {
      if (end === "eof") return this.tcp.closeWrite().catch(() => {});
      this.abort(); // The client is gone (or the runner): the handler's writes fail from now on.
      return undefined;
    });
  }

  /** The handler is done (its runner closed the data connection): deliver what is left, then close. */
  async finish(): Promise<void> {
    await waitAtMost(this.#down, ABORT_GRACE_MS);
    this.#close();
  }

  /** Whether the server cut it short (at shutdown, or because the client or runner failed). */
  aborted = false;

  /** Closes both sides at once. */
  abort(): void {
    if (this.state === "closed") return;
    this.aborted = true;
    this.#close();
  }

  #close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.tcp.close();
    this.#unix?.close();
    Promise.allSettled([this.#up, this.#down]).then(() => this.#resolve());
  }
}

/** One runner, as the pool tracks it. */
interface Slot {
  id: number;
  runner?: Runner;
  control?: NetConn;
  /** Its data connection, open and waiting for a header: the runner is ready. */
  data?: NetConn;
  /** The connection it serves. */
  job?: Job;
  served: number;
  everReady: boolean;
  dead: boolean;
  timer?: ReturnType<typeof setTimeout>;
  /** Reads its control connection; ends after the runner's last message. */
  controlLoop?: Promise<void>;
}

/** See the module doc. */
export class RelayPool {
  #options: PoolOptions;
  #queue: Job[] = [];
  #slots = new Set<Slot>();
  #idle = new Set<Slot>();
  #nextId = 0;
  #startFailures = 0;
  #anyReady = false;
  #closing = false;
  #controlLoops = new Set<Promise<void>>();

  constructor(options: PoolOptions) {
    this.#options = options;
  }

  /** Starts the spare runners. */
  start(): void {
    this.#grow();
  }

  /** Takes an accepted connection; it is served as soon as a runner is ready. */
  submit(tcp: NetConn): Served {
    const job = new Job(tcp);
    if (this.#closing) {
      job.abort();
      return job;
    }
    this.#queue.push(job);
    this.#dispatch();
    this.#grow();
    return job;
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#idle.size > 0) {
      const job = this.#queue.shift()!;
      if (job.state === "closed") continue;
      // The runner that became idle last: its thread or process is the likeliest to be awake and
      // warm, and runners that stay idle sleep.
      const slot: Slot = [...this.#idle].at(-1)!;
      this.#idle.delete(slot);
      this.#assign(slot, job);
    }
  }

  #assign(slot: Slot, job: Job): void {
    const data = slot.data!;
    slot.data = undefined;
    slot.job = job;
    job.state = "assigning";
    const header: RelayHeader = { id: job.id, client: job.client, local: job.local };
    writeFrame(data, header).then(
      () => {
        if (slot.dead) {
          // Gone while the header was on its way: its exit could not tell this connection yet.
          data.close();
          this.#crashed(job, slot.runner!, { code: null, error: null, description: "ended" });
          return;
        }
        job.start(data);
      },
      () => {
        // The runner is gone (its exit is handled separately): give the client to another.
        data.close();
        if (slot.job === job) slot.job = undefined;
        if (job.state === "closed") return;
        job.state = "queued";
        this.#queue.unshift(job);
        this.#dispatch();
        this.#grow();
      },
    );
  }

  /** Runners that will be free without a new start: idle, starting, or between two connections. */
  #available(): number {
    const { perRunner } = this.#options;
    let n = 0;
    for (const slot of this.#slots) {
      if (!slot.dead && !slot.job && (perRunner === 0 || slot.served < perRunner)) n++;
    }
    return n;
  }

  /** Runners started and not yet ready. */
  #starting(): number {
    let n = 0;
    for (const slot of this.#slots) if (!slot.dead && !slot.everReady) n++;
    return n;
  }

  #grow(): void {
    if (this.#closing) return;
    // After a runner failed to start, start runners only for waiting clients (no spin).
    const spares = this.#startFailures > 0 ? 0 : this.#options.spares;
    const need = this.#queue.length + spares;
    // The first runner starts alone: if the handler's module cannot load, that shows once, not
    // once per waiting client. Later, a few at a time: starting more processes or threads at
    // once than there are cores only makes each one slower to become ready.
    const limit = this.#anyReady ? MAX_STARTING : 1;
    let starting = this.#starting();
    for (let have = this.#available(); have < need && starting < limit; have++, starting++) {
      try {
        this.#spawn();
      } catch (error) {
        // Process.start() refused (e.g. in a daemonic process): nothing can serve the waiting clients.
        const job = this.#queue.shift();
        if (!job) {
          this.#options.onLog(`Cannot start a connection runner: ${describe(error)}`);
          return;
        }
        this.#options.onError(asError(error), job.client);
        job.abort();
      }
    }
  }

  #spawn(): void {
    const { kind, name, hub } = this.#options;
    const slot: Slot = { id: ++this.#nextId, served: 0, everReady: false, dead: false };
    const config: RelayConfig = {
      path: hub.path,
      token: hub.token,
      runner: slot.id,
      name: `${name} runner ${slot.id}`,
      handler: this.#options.handler,
      address: this.#options.address,
      mode: this.#options.mode,
      limit: this.#options.perRunner,
      kind,
    };
    hub.register(slot.id, (what, conn) => this.#onHello(slot, what, conn));
    let runner: Runner;
    try {
      runner = spawnRunner(kind, config.name, RUNNER_MODULE, "runRelayed", config, {
        denoArgs: this.#options.denoArgs,
        onUncaught: (error, label) =>
          this.#options.onLog(`Uncaught error in connection ${label}: ${describe(error)}`),
      });
    } catch (error) {
      hub.unregister(slot.id);
      throw error;
    }
    slot.runner = runner;
    this.#slots.add(slot);
    slot.timer = setTimeout(() => {
      if (!slot.everReady) runner.kill();
    }, STARTUP_TIMEOUT_MS);
    runner.exited.then(async (exit) => {
      // Its last messages (a "done" sent just before a clean exit) come first.
      if (slot.controlLoop) await waitAtMost(slot.controlLoop, ABORT_GRACE_MS);
      this.#onExit(slot, exit);
    });
  }

  #onHello(slot: Slot, what: "control" | "data", conn: NetConn): void {
    if (this.#closing || slot.dead) {
      conn.close();
      return;
    }
    if (what === "control") {
      slot.control?.close();
      slot.control = conn;
      const loop = this.#readControl(slot, conn);
      slot.controlLoop = loop;
      this.#controlLoops.add(loop);
      loop.then(() => this.#controlLoops.delete(loop));
      return;
    }
    slot.data?.close();
    slot.data = conn;
    if (!slot.everReady) {
      slot.everReady = true;
      this.#anyReady = true;
      clearTimeout(slot.timer);
      this.#startFailures = 0;
    }
    if (!slot.job) {
      this.#idle.add(slot);
      this.#dispatch();
    }
    this.#grow(); // One fewer starting: more may start now.
  }

  async #readControl(slot: Slot, conn: NetConn): Promise<void> {
    while (true) {
      let message: RunnerMessage | undefined;
      try {
        message = await readFrameFrom(conn) as RunnerMessage | undefined;
      } catch {
        message = undefined;
      }
      if (!message) break;
      if (message.t === "done") this.#onDone(slot, message);
      else if (message.t === "shutdown") this.#options.onShutdownRequest();
    }
    // A worker that called Deno.exit() ends without a word: its channel closing is the sign.
    slot.runner?.lost();
  }

  #onDone(slot: Slot, message: Extract<RunnerMessage, { t: "done" }>): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    slot.job = undefined;
    slot.served++;
    if (message.error && !this.#closing && !job.aborted) {
      this.#options.onError(errorFromData(message.error), job.client);
    }
    job.finish();
    if (slot.data && !slot.dead) {
      this.#idle.add(slot);
      this.#dispatch();
    }
    this.#grow();
  }

  #onExit(slot: Slot, exit: RunnerExit): void {
    slot.dead = true;
    clearTimeout(slot.timer);
    this.#options.hub.unregister(slot.id);
    this.#slots.delete(slot);
    this.#idle.delete(slot);
    slot.control?.close();
    slot.data?.close();
    slot.data = undefined;
    const job = slot.job;
    if (job && job.state === "relaying") {
      slot.job = undefined;
      this.#crashed(job, slot.runner!, exit);
    }
    if (!slot.everReady && !this.#closing) {
      this.#startFailures++;
      const error = exit.error ??
        new Error(`Cannot start connection ${slot.runner!.label}: it ${exit.description}`);
      const waiting = this.#queue.shift();
      if (waiting) {
        this.#options.onError(error, waiting.client);
        waiting.abort();
      } else {
        this.#options.onLog(describe(error));
      }
    }
    this.#grow();
  }

  #crashed(job: Job, runner: Runner, exit: RunnerExit): void {
    if (!this.#closing) {
      const error = exit.error ??
        new Error(`The connection's handler ${runner.label} ${exit.description}`);
      this.#options.onError(error, job.client);
    }
    job.abort();
  }

  /**
   * Closes the pool: waiting clients are closed, idle runners told to exit
   * (their data connection closes), and every runner still running after
   * {@linkcode ABORT_GRACE_MS} is killed. The server aborts in-flight
   * connections before calling this.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    for (const job of this.#queue.splice(0)) job.abort();
    for (const slot of this.#slots) {
      slot.job?.abort();
      slot.data?.close();
      slot.data = undefined;
    }
    const exits = () => Promise.all([...this.#slots].map((slot) => slot.runner!.exited));
    await waitAtMost(exits(), ABORT_GRACE_MS);
    for (const slot of this.#slots) slot.runner!.kill();
    await waitAtMost(exits(), KILL_WAIT_MS);
    for (const slot of this.#slots) {
      clearTimeout(slot.timer);
      slot.control?.close();
    }
    await Promise.all(this.#controlLoops);
  }

  /** Runners started and not ended. */
  get size(): number {
    return this.#slots.size;
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

function describe(error: unknown): string {
  return error instanceof Error
    ? (error.stack ?? `${error.name}: ${error.message}`)
    : String(error);
}
