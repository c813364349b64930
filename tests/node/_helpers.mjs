/** Small helpers for the Node tests of the built package. */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Bound of every wait that must succeed: never reached by a passing test, it turns a hang into a failure. */
export const LONG = 30_000;

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until it holds; rejects after `timeout` ms. */
export async function waitUntil(predicate, what, timeout = LONG) {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * The state letter of process `pid` from `/proc/<pid>/stat` ("R", "S", "Z" for a zombie, …), or
 * null once it is gone (reaped). Linux only, as the suite.
 */
export function procState(pid) {
  let text;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if (error.code === "ENOENT" || error.code === "ESRCH") return null;
    throw error;
  }
  // The name in parentheses may itself hold spaces and parentheses: the state follows the last ")".
  return text.slice(text.lastIndexOf(")") + 2).split(" ")[0];
}

/** Whether process `pid` exists, a zombie included: false only once it is gone and reaped. */
export function pidAlive(pid) {
  return procState(pid) !== null;
}

/** Whether process `pid` is still running: it exists and is not a zombie. */
export function pidRunning(pid) {
  const state = procState(pid);
  return state !== null && state !== "Z" && state !== "X";
}

/**
 * Runs a fixture program with node and collects its output; kills it after
 * `timeout` ms (a program that does not exit by itself is a failure). Its
 * temporary files go to a folder of its own, removed once it has ended.
 */
export async function runNode(fixture, args = [], timeout = 20_000) {
  const program = startNode(fixture, args, timeout);
  try {
    return await program.closed;
  } finally {
    await program.dispose();
  }
}

/**
 * Starts a fixture program with node, in a temporary folder of its own (its
 * `TMPDIR`, also given as `program.dir`); `line(prefix)` resolves with the
 * first line of its output that starts with `prefix`; `exited` with its
 * code and signal once it exits (it is SIGKILLed after `timeout` ms);
 * `closed` with those and its whole output once its output pipes are closed
 * too (children it started hold them open); `dispose()` kills it if still
 * running and removes the folder.
 */
export function startNode(fixture, args = [], timeout = 20_000) {
  const dir = mkdtempSync(join(tmpdir(), "multiproc-node-test-"));
  const file = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  const child = spawn(process.execPath, [file, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, TMPDIR: dir },
  });
  let stdout = "";
  let stderr = "";
  const watchers = new Set();
  child.stdout.on("data", (d) => {
    stdout += d;
    for (const watch of watchers) watch();
  });
  child.stderr.on("data", (d) => (stderr += d));
  let timedOut = false;
  let ended = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeout);
  // "exit": the program has ended (its children may still hold its output pipes open).
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      ended = true;
      resolve({ code, signal });
    });
  });
  // "close": it has exited and its output pipes are drained.
  const closed = new Promise((resolve) => {
    child.on("close", (code, signal) => {
      for (const watch of watchers) watch();
      resolve({ code, signal, stdout, stderr, timedOut, pid: child.pid });
    });
  });
  return {
    pid: child.pid,
    dir,
    exited,
    closed,
    /** The first output line starting with `prefix`, without it; rejects if the program ends first. */
    line(prefix) {
      return new Promise((resolve, reject) => {
        const watch = () => {
          const found = stdout.split("\n").find((l, i, all) =>
            l.startsWith(prefix) && (i < all.length - 1 || ended)
          );
          if (found !== undefined) {
            watchers.delete(watch);
            resolve(found.slice(prefix.length));
          } else if (ended) {
            watchers.delete(watch);
            reject(
              new Error(`The program ended without printing "${prefix}"\n${stdout}\n${stderr}`),
            );
          }
        };
        watchers.add(watch);
        watch();
      });
    },
    async dispose() {
      if (!ended) {
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
