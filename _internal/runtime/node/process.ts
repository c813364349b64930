/**
 * The Node adapter's processes: spawning a child Node (with this process's
 * Node flags, not Deno's), this process's ids and its exit, the control
 * pipe, what `/proc` tells of other processes, the program's entry module
 * (`process.argv[1]`), and the ends of a program (fatal errors, terminating
 * signals).
 *
 * @module
 */

import { spawn } from "node:child_process";
import * as fs from "node:fs";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isMainThread } from "node:worker_threads";
import type { ChildHandle, ChildStatus, SpawnOptions } from "../../runtime_types.ts";
import {
  errorCode,
  readFull,
  runningInStat,
  TERMINATING_SIGNALS,
  type TerminatingSignal,
} from "../common.ts";
import { removeTree } from "./files.ts";

/** Node flags of this process that must not reach a child: they would change what it runs. */
const DROP_FLAGS =
  /^(--test|--experimental-test|--watch|--inspect|--debug|--eval$|-e$|--print$|-p$|--input-type|--interactive$|-i$|--check$|-c$|--prof|--cpu-prof|--heap-prof|--diagnostic-dir|--redirect-warnings|--report)/;

/** Of those, the ones whose value is the next argument when not given with `=`. */
const DROP_WITH_VALUE =
  /^(--test-reporter|--test-reporter-destination|--test-name-pattern|--test-skip-pattern|--test-concurrency|--test-timeout|--test-shard|--watch-path|--inspect-port|--debug-port|--eval|-e|--print|-p|--input-type|--diagnostic-dir|--redirect-warnings|--cpu-prof-dir|--cpu-prof-name|--heap-prof-dir|--heap-prof-name|--report-dir|--report-directory|--report-filename)$/;

/** `deno run` flags, which mean nothing to Node (permissions, unstable features, reload…). */
const DENO_FLAGS =
  /^(-A$|--allow-|--deny-|--unstable|--no-prompt|--reload|-r$|--no-check|--check=|--cached-only|--lock|--no-lock|--import-map|--config|--no-config|--node-modules-dir|--vendor|--quiet$|-q$|--location|--seed|--v8-flags|--cert|--unsafely-ignore|--no-remote|--no-npm|--env-file=)/;

/** This process's Node flags that a child should get too (`--import tsx`, memory limits…). */
function inheritedNodeFlags(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (DROP_FLAGS.test(arg)) {
      if (DROP_WITH_VALUE.test(arg)) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/** `runtimeArgs` as Node flags: Deno's own flags are dropped (`--v8-flags=a,b` becomes `a b`). */
function nodeFlags(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const arg of args) {
    if (arg.startsWith("--v8-flags=")) {
      out.push(
        ...arg.slice("--v8-flags=".length).split(",").filter((f) => f.length > 0),
      );
    } else if (!DENO_FLAGS.test(arg)) {
      out.push(arg);
    }
  }
  return out;
}

function signalNumber(signal: string): number {
  return (os.constants.signals as Record<string, number>)[signal] ?? 0;
}

/**
 * Throws a clear error when the library's own entry module for a child
 * (`process/_bootstrap.js`…) is missing: the library was bundled into the
 * program, so `new URL("./_bootstrap.js", import.meta.url)` names a file
 * beside the bundle that does not exist. Children import modules by URL,
 * so the library and every module that exports a target must stay files.
 */
export function checkEntryFile(entry: string, what: string): void {
  if (!entry.startsWith("file:") || fs.existsSync(new URL(entry))) return;
  throw new Error(
    `Cannot start ${what} as the library's entry module ${fileURLToPath(entry)} does not ` +
      `exist: the program looks bundled. A child process or thread imports the library and its ` +
      `target's module by URL, so keep @multiproc/multiproc external (esbuild --external, or ` +
      `--packages=external) and the modules that export targets as separate files`,
  );
}

/**
 * Starts a new Node process running `entry` (a `file:` module URL) with this
 * process's Node flags, inheriting stdout and stderr, with a piped stdin
 * used as the control channel.
 */
export function spawnRuntime(
  entry: string,
  options: SpawnOptions = {},
): ChildHandle {
  if (!entry.startsWith("file:")) {
    throw new Error(
      `Cannot start a child process from ${entry}: on Node.js the library must be installed ` +
        `locally (Node cannot run a module loaded over http)`,
    );
  }
  checkEntryFile(entry, "a child process");
  const args = [
    ...inheritedNodeFlags(),
    ...nodeFlags(options.runtimeArgs ?? []),
    fileURLToPath(entry),
  ];
  const child = spawn(process.execPath, args, {
    stdio: ["pipe", "inherit", "inherit"],
  });
  // The control pipe is a socket: it can be unref'd along with the child.
  const stdin = child.stdin! as unknown as net.Socket;
  // A write to a child that has exited fails with EPIPE; its status says why.
  stdin.on("error", () => {});
  let exited = false;
  let referenced = true;
  const status = new Promise<ChildStatus>((resolve) => {
    const done = (s: ChildStatus) => {
      if (exited) return;
      exited = true;
      stdin.destroy();
      resolve(s);
    };
    child.once("exit", (code, signal) => {
      done(
        signal ? { code: 128 + signalNumber(signal), signal } : { code: code ?? 1, signal: null },
      );
    });
    child.once("error", () => done({ code: 1, signal: null }));
  });
  return {
    pid: child.pid ?? 0,
    status,
    write(bytes) {
      if (exited || stdin.destroyed) return Promise.resolve();
      return new Promise<void>((resolve) => {
        stdin.write(bytes, () => resolve());
        // The pipe must not keep this process alive by itself when the child is unref'd.
        if (!referenced) stdin.unref();
      });
    },
    kill(signal) {
      if (exited) return false;
      try {
        return child.kill(signal);
      } catch {
        return false;
      }
    },
    ref() {
      referenced = true;
      child.ref();
      stdin.ref();
    },
    unref() {
      referenced = false;
      child.unref();
      stdin.unref();
    },
  };
}

/** This process's id. */
export function currentPid(): number {
  return process.pid;
}

/** This process's parent id (a live value: it changes when the parent dies). */
export function currentPpid(): number {
  return process.ppid;
}

/** Whether a process with this pid exists (signal 0). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Whether process `pid` is running: it exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  if (!pidExists(pid)) return false;
  try {
    return runningInStat(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch (error) {
    // No /proc (macOS): the signal check is all there is.
    return (error as NodeJS.ErrnoException).code !== "ENOENT" || !fs.existsSync("/proc/self");
  }
}

/** Number of logical CPUs. */
export function cpuCount(): number {
  return typeof os.availableParallelism === "function"
    ? os.availableParallelism()
    : os.cpus().length;
}

let mainUrl: string | null | undefined;

/** The URL Node's loader gives the entry file `process.argv[1]` (real path, extension found). */
function findMainUrl(): string | null {
  const file = process.argv[1];
  if (!isMainThread || !file) return null;
  for (const candidate of [file, `${file}.js`, `${file}.mjs`, `${file}.cjs`]) {
    try {
      if (fs.statSync(candidate).isFile()) {
        return pathToFileURL(fs.realpathSync(candidate)).href;
      }
    } catch {
      // Try the next extension.
    }
  }
  return pathToFileURL(path.resolve(file)).href;
}

/** URL of the entry module of this runtime, if there is one (none in a worker, or under `node -e`). */
export function mainModuleUrl(): string | undefined {
  if (mainUrl === undefined) mainUrl = findMainUrl();
  return mainUrl ?? undefined;
}

/**
 * Whether the module at `url` is the program's entry module: Deno's
 * `import.meta.main`, Python's `__name__ == "__main__"`. Never true in a
 * child's copy of the user's module, nor in a worker.
 */
export function isMainModule(url: string): boolean {
  const main = mainModuleUrl();
  return main !== undefined && main === url;
}

/** How a module tests that it is the program's entry module, for messages: the library's `isMain`. */
export const MAIN_GUARD = "if (isMain(import.meta))";

/** Runs `fn` when the runtime exits (normally, or through `process.exit`). */
export function onRuntimeExit(fn: () => void): void {
  process.on("exit", () => fn());
}

/** Sets the code the runtime exits with when its event loop drains. */
export function setExitCode(code: number): void {
  process.exitCode = code;
}

/** Exits the runtime at once. */
export function exitNow(code: number): never {
  process.exit(code);
}

/** Kills this very process with a signal (used to die "by SIGTERM" like Python). */
export function killSelf(signal: "SIGTERM" | "SIGKILL" | TerminatingSignal): void {
  process.kill(process.pid, signal);
}

function readFd(fd: number, into: Uint8Array): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(
      fd,
      into,
      0,
      into.length,
      null,
      (error, n) => (error ? reject(error) : resolve(n)),
    );
  });
}

/**
 * Reads from the control pipe (stdin) into `into`: `null` at its end, or
 * when no parent is on the other end. A read that would block is retried.
 */
async function readStdin(into: Uint8Array): Promise<number | null> {
  for (;;) {
    try {
      const got = await readFd(0, into);
      return got === 0 ? null : got;
    } catch (error) {
      const code = errorCode(error);
      if (code !== "EAGAIN" && code !== "EINTR") return null; // EOF-like: no parent on the other end.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

/**
 * Reads exactly `n` bytes from the control pipe (stdin), or fewer at EOF.
 * It reads the file descriptor directly, never more than asked, so nothing
 * is left pending on stdin that would keep the child alive afterwards.
 */
export function readControl(n: number): Promise<Uint8Array> {
  return readFull(n, readStdin);
}

/**
 * The text of `/proc/<pid>/stat`: `null` when there is no such process,
 * `undefined` when it cannot be told (no `/proc`).
 */
export function readProcStat(pid: number): string | null | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
    return fs.existsSync("/proc/self/stat") ? null : undefined;
  }
}

/** What `/proc/self/ns/pid` links to (`pid:[<inode>]`): which pid namespace this process is in. */
export function pidNamespace(): string | undefined {
  try {
    return fs.readlinkSync("/proc/self/ns/pid");
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` when Node is about to end the program because of an uncaught
 * exception or an unhandled rejection, provided `armed()` says so then.
 * `uncaughtExceptionMonitor` listeners leave Node's behaviour as it is; the
 * program ends unless it has an `uncaughtException` listener of its own.
 */
export function onFatalError(armed: () => boolean, fn: () => void): void {
  process.on("uncaughtExceptionMonitor", () => {
    if (process.listenerCount("uncaughtException") === 0 && armed()) fn();
  });
}

/**
 * Removes the tree `dir` when SIGINT, SIGTERM or SIGHUP would end this
 * process, which then dies by that signal as it would have. A listener of
 * the program's own for that signal means the program handles it: then
 * nothing is done (its exit removes the folder). Node runs signal listeners
 * on the main thread's event loop, so a program busy in a synchronous loop
 * dies only when it yields.
 */
export function removeTreeOnSignal(dir: string): Promise<void> {
  watchTerminatingSignals(dir);
  return Promise.resolve();
}

/** The listeners of {@linkcode removeTreeOnSignal}. */
export function watchTerminatingSignals(dir: string): void {
  const onSignal = (signal: TerminatingSignal) => {
    if (process.listenerCount(signal) > 1) return; // The program handles it.
    removeTree(dir);
    for (const [name, listener] of listeners) process.off(name, listener);
    killSelf(signal);
  };
  const listeners = TERMINATING_SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  for (const [name, listener] of listeners) process.on(name, listener);
}

/** Calls `fn` every `ms` milliseconds without keeping the runtime alive. */
export function everyUnref(ms: number, fn: () => void): void {
  setInterval(fn, ms).unref();
}

/** Prints to stderr synchronously (used for child error reports). */
export function printError(text: string): void {
  const bytes = new TextEncoder().encode(
    text.endsWith("\n") ? text : text + "\n",
  );
  let written = 0;
  while (written < bytes.length) {
    try {
      written += fs.writeSync(2, bytes, written);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
    }
  }
}
