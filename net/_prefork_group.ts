/**
 * The server side of the prefork modes: N children (processes started with
 * `--unstable-net`, or workers of this process) that each bind the port
 * with `reusePort` and serve their own connections. The server only starts
 * them, learns the port, tells them when to serve and when to stop, logs
 * the handler errors they report, and replaces a child that dies.
 *
 * Port 0: the first child binds port 0 and reports the port the kernel
 * chose; the others are started only then, with that port (every socket
 * sharing a port must set `SO_REUSEPORT`, so the parent cannot reserve it
 * with an ordinary bind).
 *
 * @module
 */

import { errorFromData } from "../_internal/codec.ts";
import { type NetConn, reviveRuntimeError } from "../_internal/runtime.ts";
import type { TargetRef } from "../_internal/target.ts";
import { waitAtMost } from "../_internal/wait.ts";
import { ABORT_GRACE_MS } from "./_accept_loop.ts";
import { FrameWriter, readFrameFrom, tcpAddress } from "./_conn.ts";
import type { RunnerHub } from "./_hub.ts";
import type { PreforkCommand, PreforkConfig, PreforkReport } from "./_prefork_child.ts";
import { RestartBackoff } from "./_restart_backoff.ts";
import { type Runner, type RunnerExit, spawnRunner } from "./_spawn.ts";
import type { ServerMode, TcpAddress } from "./types.ts";

const CHILD_MODULE = new URL("./_prefork_child.ts", import.meta.url).href;

/** A child that has not reported its port within this time is killed (a start-up failure). */
const STARTUP_TIMEOUT_MS = 60_000;

/** After stopping, extra time children get beyond the drain timeout before they are killed. */
const KILL_WAIT_MS = 5000;

/** What the group needs from its server. */
export interface PreforkOptions {
  kind: "process" | "thread";
  name: string;
  handler: TargetRef;
  hostname: string;
  port: number;
  mode: ServerMode;
  workers: number;
  /** Connections each child serves at once; 0 for no limit. */
  maxPerWorker: number;
  denoArgs: readonly string[];
  hub: RunnerHub;
  onError(error: Error, client: TcpAddress): void;
  onLog(text: string): void;
  onShutdownRequest(): void;
}

interface Member {
  id: number;
  index: number;
  runner?: Runner;
  control?: NetConn;
  writer?: FrameWriter;
  listening: boolean;
  dead: boolean;
  timer?: ReturnType<typeof setTimeout>;
  controlLoop?: Promise<void>;
}

/** See the module doc. */
export class PreforkGroup {
  #options: PreforkOptions;
  #members = new Set<Member>();
  #nextId = 0;
  #port = 0;
  #address: TcpAddress | undefined;
  #serving = false;
  #stopping = false;
  #stopped: Promise<void> | undefined;
  #restartTimers = new Set<ReturnType<typeof setTimeout>>();
  #backoff = new RestartBackoff();
  #controlLoops = new Set<Promise<void>>();
  #resolveListening!: (address: TcpAddress) => void;
  #rejectListening!: (error: Error) => void;
  #settled = false;
  /** Resolves with the bound address once every child listens; rejects if one cannot. */
  readonly listening: Promise<TcpAddress>;

  constructor(options: PreforkOptions) {
    this.#options = options;
    this.listening = new Promise((resolve, reject) => {
      this.#resolveListening = resolve;
      this.#rejectListening = reject;
    });
    this.listening.catch(() => {}); // The server re-raises it from serveForever().
    this.#port = options.port;
    // With a fixed port every child can bind at once; with port 0 the first one picks it.
    const first = options.port === 0 ? 1 : options.workers;
    for (let index = 0; index < first; index++) this.#start(index);
  }

  #start(index: number): void {
    const { kind, name, hub } = this.#options;
    const member: Member = {
      id: ++this.#nextId,
      index,
      listening: false,
      dead: false,
    };
    const config: PreforkConfig = {
      path: hub.path,
      token: hub.token,
      runner: member.id,
      name: `${name} worker ${index}`,
      handler: this.#options.handler,
      hostname: this.#options.hostname,
      port: this.#port,
      mode: this.#options.mode,
      maxConnections: this.#options.maxPerWorker,
      kind,
    };
    hub.register(member.id, (what, conn) => this.#onHello(member, what, conn));
    try {
      member.runner = spawnRunner(kind, config.name, CHILD_MODULE, "servePrefork", config, {
        denoArgs: kind === "process" ? ["--unstable-net", ...this.#options.denoArgs] : [],
        onUncaught: (error, label) =>
          this.#options.onLog(`Uncaught error in prefork ${label}: ${describe(error)}`),
      });
    } catch (error) {
      hub.unregister(member.id);
      this.#fail(asError(error));
      return;
    }
    this.#members.add(member);
    member.timer = setTimeout(() => {
      if (!member.listening) member.runner!.kill();
    }, STARTUP_TIMEOUT_MS);
    member.runner.exited.then(async (exit) => {
      // Its last reports (errors logged just before a crash) come first.
      if (member.controlLoop) await waitAtMost(member.controlLoop, ABORT_GRACE_MS);
      this.#onExit(member, exit);
    });
  }

  #onHello(member: Member, what: "control" | "data", conn: NetConn): void {
    if (what !== "control" || this.#stopping || member.dead || member.control) {
      conn.close();
      return;
    }
    member.control = conn;
    member.writer = new FrameWriter(conn);
    const loop = this.#readReports(member, conn);
    member.controlLoop = loop;
    this.#controlLoops.add(loop);
    loop.then(() => this.#controlLoops.delete(loop));
  }

  async #readReports(member: Member, conn: NetConn): Promise<void> {
    while (true) {
      let report: PreforkReport | undefined;
      try {
        report = await readFrameFrom(conn) as PreforkReport | undefined;
      } catch {
        report = undefined;
      }
      if (!report) break;
      switch (report.t) {
        case "listening":
          this.#onListening(member, report.port);
          break;
        case "bind-error": {
          const error = reviveRuntimeError(errorFromData(report.error));
          if (!this.#settled) this.#fail(error);
          else {
            this.#options.onLog(
              `Cannot restart prefork ${member.runner!.label}: ${describe(error)}`,
            );
          }
          break;
        }
        case "error":
          this.#options.onError(
            errorFromData(report.error),
            tcpAddress(report.client.hostname, report.client.port),
          );
          break;
        case "shutdown":
          this.#options.onShutdownRequest();
          break;
      }
    }
    member.runner?.lost();
  }

  #onListening(member: Member, port: number): void {
    member.listening = true;
    clearTimeout(member.timer);
    if (this.#stopping) return;
    if (this.#port === 0) {
      this.#port = port;
      for (let index = 1; index < this.#options.workers; index++) this.#start(index);
    }
    if (this.#serving) member.writer!.send({ t: "serve" } satisfies PreforkCommand);
    const listening = [...this.#members].filter((m) => m.listening).length;
    if (!this.#settled && listening === this.#options.workers) {
      this.#settled = true;
      this.#address = tcpAddress(this.#options.hostname, this.#port);
      this.#resolveListening(this.#address);
    }
  }

  #fail(error: Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#rejectListening(error);
    // Nothing will serve: stop the children that did start.
    this.stop(0);
  }

  #onExit(member: Member, exit: RunnerExit): void {
    member.dead = true;
    clearTimeout(member.timer);
    this.#options.hub.unregister(member.id);
    this.#members.delete(member);
    member.control?.close();
    if (this.#stopping) return;
    const label = member.runner!.label;
    if (!this.#settled) {
      this.#fail(exit.error ?? new Error(`Cannot start prefork ${label}: it ${exit.description}`));
      return;
    }
    // At once: while every child is down the kernel refuses new clients (no socket listens).
    const delay = this.#backoff.next(member.index, Date.now());
    const restart = delay === 0
      ? "starting a replacement"
      : `starting a replacement in ${delay} ms as it keeps crashing`;
    this.#options.onLog(
      member.listening
        ? `Prefork ${label} ${exit.description}; the connections it was serving were closed, ${restart}`
        : `Prefork ${label} ${exit.description} before it was listening; ${restart}`,
    );
    if (delay === 0) {
      this.#start(member.index);
      return;
    }
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (!this.#stopping) this.#start(member.index);
    }, delay);
    this.#restartTimers.add(timer);
  }

  /** The bound address, once every child listens. */
  get address(): TcpAddress | undefined {
    return this.#address;
  }

  /** Tells every child to start accepting (and every later replacement). */
  serve(): void {
    this.#serving = true;
    for (const member of this.#members) {
      if (member.listening) member.writer?.send({ t: "serve" } satisfies PreforkCommand);
    }
  }

  /**
   * Stops every child: they close their listeners, drain their connections
   * for up to `timeout` ms and exit; any still running after that (plus a
   * grace period) is killed.
   */
  stop(timeout: number): Promise<void> {
    this.#stopped ??= this.#stop(timeout);
    return this.#stopped;
  }

  async #stop(timeout: number): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    for (const member of this.#members) {
      if (member.writer) member.writer.send({ t: "stop", timeout } satisfies PreforkCommand);
      else member.runner!.kill(); // Not connected yet: nothing to drain.
    }
    const exits = () => Promise.all([...this.#members].map((m) => m.runner!.exited));
    await waitAtMost(exits(), timeout + ABORT_GRACE_MS + 1000);
    for (const member of this.#members) member.runner!.kill();
    await waitAtMost(exits(), KILL_WAIT_MS);
    for (const member of this.#members) {
      clearTimeout(member.timer);
      member.control?.close();
    }
    await Promise.all(this.#controlLoops);
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
