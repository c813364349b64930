/**
 * The Deno adapter's processes: spawning a child runtime, this process's ids
 * and its exit, the control pipe, what `/proc` tells of other processes, the
 * program's entry module, and the ends of a program (fatal errors,
 * terminating signals).
 *
 * @module
 */

import type { ChildHandle, SpawnOptions } from "../../runtime_types.ts";
import { readFull, runningInStat, TERMINATING_SIGNALS, type TerminatingSignal } from "../common.ts";
import { removeTree } from "./files.ts";
import { permissionFlags } from "./permissions.ts";
import { libc } from "./shared_memory.ts";
import { startHelperThread } from "./threads.ts";

/**
 * Starts a new runtime running `entry` (a module URL) with the parent's
 * permissions, inheriting stdout and stderr, with a piped stdin used as the
 * control channel.
 */
export function spawnRuntime(entry: string, options: SpawnOptions = {}): ChildHandle {
  const args = [
    "run",
    ...permissionFlags([entry, ...(options.importUrls ?? [])]),
    ...(options.runtimeArgs ?? []),
    entry,
  ];
  const command = new Deno.Command(Deno.execPath(), {
    args,
    stdin: "piped",
    stdout: "inherit",
    stderr: "inherit",
  });
  const child = command.spawn();
  const writer = child.stdin.getWriter();
  let exited = false;
  const status = child.status.then(
    (s) => {
      exited = true;
      writer.close().catch(() => {});
      return { code: s.code, signal: s.signal };
    },
    () => {
      exited = true;
      return { code: 1, signal: null };
    },
  );
  return {
    pid: child.pid,
    status,
    async write(bytes) {
      try {
        await writer.write(bytes);
      } catch {
        // The child is gone; its status reports why.
      }
    },
    kill(signal) {
      if (exited) return false;
      try {
        child.kill(signal);
        return true;
      } catch {
        return false;
      }
    },
    ref: () => hold(child, true),
    unref: () => hold(child, false),
  };
}

/**
 * `child.ref()` or `child.unref()`, also once the child has exited. Deno
 * frees a child's resource when its wait op completes, but marks `status`
 * settled only in a reaction that runs later: code that runs in between (a
 * timer, another op's reaction, under load) finds the resource gone, and
 * both calls throw `BadResource` after they have already (un)referenced the
 * wait. An exited child has nothing left to hold, so that is not an error.
 */
function hold(child: Deno.ChildProcess, on: boolean): void {
  try {
    if (on) child.ref();
    else child.unref();
  } catch (error) {
    if (!(error instanceof Deno.errors.BadResource)) throw error;
  }
}

/** This process's id. */
export function currentPid(): number {
  return Deno.pid;
}

/** This process's parent id (a live value: it changes when the parent dies). */
export function currentPpid(): number {
  return Deno.ppid;
}

/** Whether a process with this pid exists (signal 0). */
export function pidExists(pid: number): boolean {
  try {
    Deno.kill(pid, 0 as unknown as Deno.Signal);
    return true;
  } catch (error) {
    return !(error instanceof Deno.errors.NotFound);
  }
}

/**
 * Whether process `pid` is running: it exists and is not a zombie (a child
 * killed but not yet reaped still has a pid). Used to tell that the holder of
 * a lock in shared memory died.
 */
export function pidAlive(pid: number): boolean {
  const lib = libc();
  if (lib ? lib.symbols.kill(pid, 0) !== 0 : !pidExists(pid)) return false;
  const stat = `/proc/${pid}/stat`;
  if (Deno.permissions.querySync({ name: "read", path: stat }).state !== "granted") return true;
  try {
    return runningInStat(Deno.readTextFileSync(stat));
  } catch (error) {
    // Gone between the two checks (NotFound). Anything else cannot tell: Deno reads another
    // process's /proc files only with --allow-all (NotCapable otherwise), so kill(pid, 0) stands.
    return !(error instanceof Deno.errors.NotFound);
  }
}

// ---------------------------------------------------------------------------
// Memory shared between processes (Linux, with --allow-ffi)

/** Number of logical CPUs. */
export function cpuCount(): number {
  return navigator.hardwareConcurrency;
}

/** URL of the entry module of this runtime, if there is one. */
export function mainModuleUrl(): string | undefined {
  try {
    return Deno.mainModule;
  } catch {
    return undefined;
  }
}

/**
 * Whether the module at `url` is the program's entry module: what
 * `import.meta.main` says in that module (Python's `__name__ == "__main__"`).
 * Never true in a child's copy of the user's module, nor in a worker.
 */
export function isMainModule(url: string): boolean {
  const main = mainModuleUrl();
  return main !== undefined && main === url;
}

/** How a module tests that it is the program's entry module, for messages: Deno's `import.meta.main`. */
export const MAIN_GUARD = "if (import.meta.main)";

/** Runs `fn` when the runtime exits (normally, or through `Deno.exit`). */
export function onRuntimeExit(fn: () => void): void {
  globalThis.addEventListener("unload", fn);
}

/** Sets the code the runtime exits with when its event loop drains. */
export function setExitCode(code: number): void {
  Deno.exitCode = code;
}

/** Exits the runtime at once. */
export function exitNow(code: number): never {
  Deno.exit(code);
}

/** Kills this very process with a signal (used to die "by SIGTERM" like Python). */
export function killSelf(signal: "SIGTERM" | "SIGKILL" | TerminatingSignal): void {
  Deno.kill(Deno.pid, signal);
}

/** Reads exactly `n` bytes from the control pipe (stdin), or fewer at EOF. */
export function readControl(n: number): Promise<Uint8Array> {
  return readFull(n, (into) => Deno.stdin.read(into));
}

/**
 * The text of `/proc/<pid>/stat`: `null` when there is no such process,
 * `undefined` when it cannot be told (no `/proc`, or no read permission).
 */
export function readProcStat(pid: number): string | null | undefined {
  const stat = `/proc/${pid}/stat`;
  if (Deno.permissions.querySync({ name: "read", path: stat }).state !== "granted") {
    return undefined;
  }
  try {
    return Deno.readTextFileSync(stat);
  } catch (error) {
    return error instanceof Deno.errors.NotFound ? null : undefined;
  }
}

/** What `/proc/self/ns/pid` links to (`pid:[<inode>]`): which pid namespace this process is in. */
export function pidNamespace(): string | undefined {
  const link = "/proc/self/ns/pid";
  if (Deno.permissions.querySync({ name: "read", path: link }).state !== "granted") {
    return undefined;
  }
  try {
    return Deno.readLinkSync(link);
  } catch {
    return undefined;
  }
}

/**
 * Runs `fn` when the runtime is about to end the program because of an
 * uncaught error or an unhandled rejection that no listener of the program
 * handles (with `preventDefault()`), provided `armed()` says so then. The
 * program still ends exactly as it would have: the runtime's own report,
 * exit code 1. Call it in the main thread, before the program adds
 * listeners of its own (at import).
 *
 * Deno ends the program right after dispatching the event unless a listener
 * prevented its default; nothing runs after that, not even a microtask. So
 * this listener, the first one, prevents the default (the runtime then
 * finishes the dispatch and carries on), and notes whether a later listener
 * prevents it too. In a microtask after the dispatch, either the program
 * handled the error and nothing more happens, or `fn` runs and the same
 * error is raised again; this listener then lets it through and keeps the
 * program's listeners, which have seen it once already, from seeing it
 * twice.
 */
export function onFatalError(armed: () => boolean, fn: () => void): void {
  let raising = false;
  const listener = (event: Event) => {
    if (raising) {
      event.stopImmediatePropagation();
      return;
    }
    if (event.defaultPrevented || !armed()) return;
    // An error event without an error (one from a worker, say) could not be raised again as it was.
    if (event.type === "error" && (event as ErrorEvent).error === undefined) return;
    let handled = false;
    const preventDefault = event.preventDefault.bind(event);
    Object.defineProperty(event, "preventDefault", {
      value: () => {
        handled = true;
        preventDefault();
      },
    });
    preventDefault();
    queueMicrotask(() => {
      if (handled) return;
      fn();
      raising = true;
      if (event.type === "error") {
        const error = (event as ErrorEvent).error;
        queueMicrotask(() => {
          throw error;
        });
      } else Promise.reject((event as PromiseRejectionEvent).reason);
    });
  };
  globalThis.addEventListener("error", listener);
  globalThis.addEventListener("unhandledrejection", listener);
}

/**
 * Removes the tree `dir` when SIGINT, SIGTERM or SIGHUP would end this
 * process, which then dies by that signal as it would have.
 *
 * A signal listener in Deno replaces the signal's default action, and runs
 * only when its thread's event loop gets to it: in the main thread, a busy
 * program could no longer be stopped with Ctrl-C (and `deno test` counts
 * the listener as a leak). So the listeners live in a helper thread of
 * their own, which is idle; it removes the tree, removes its listeners and
 * raises the signal again. Raising needs `--allow-run`: without it nothing
 * is installed (the next program's sweep removes the folder). A program
 * that listens for the same signal receives it a second time (the raised
 * one) and carries on.
 */
export function removeTreeOnSignal(dir: string): Promise<void> {
  if (Deno.permissions.querySync({ name: "run" }).state !== "granted") return Promise.resolve();
  return startHelperThread(new URL("../../_signal_worker.ts", import.meta.url).href, dir).then(
    (thread) =>
      new Promise<void>((resolve) => {
        thread.onMessage(() => resolve());
        thread.onError(() => resolve()); // Nothing is watched; the sweep remains.
      }),
    () => {},
  );
}

/**
 * The listeners of {@linkcode removeTreeOnSignal}, installed in its helper
 * thread. A pending signal listener does not keep a thread alive, so a
 * timer does (the thread itself is unref'd: it never keeps the process
 * alive).
 */
export function watchTerminatingSignals(dir: string): void {
  setInterval(() => {}, 2 ** 30);
  const onSignal = (signal: TerminatingSignal) => {
    removeTree(dir);
    for (const [name, listener] of listeners) {
      try {
        Deno.removeSignalListener(name, listener);
      } catch {
        // It was never added.
      }
    }
    killSelf(signal);
  };
  const listeners = TERMINATING_SIGNALS.map((name) => [name, () => onSignal(name)] as const);
  for (const [name, listener] of listeners) {
    try {
      Deno.addSignalListener(name, listener);
    } catch {
      // Not a signal on this system (Windows has no SIGTERM or SIGHUP listeners).
    }
  }
}

/** Calls `fn` every `ms` milliseconds without keeping the runtime alive. */
export function everyUnref(ms: number, fn: () => void): void {
  Deno.unrefTimer(setInterval(fn, ms));
}

/** Prints to stderr synchronously (used for child error reports). */
export function printError(text: string): void {
  const bytes = new TextEncoder().encode(text.endsWith("\n") ? text : text + "\n");
  let written = 0;
  while (written < bytes.length) written += Deno.stderr.writeSync(bytes.subarray(written));
}
