/** Small helpers for the Node tests of the built package. */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Resolves after `ms` milliseconds. */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until it holds; rejects after `timeout` ms. */
export async function waitUntil(predicate, what, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Whether a process with this pid exists. */
export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code !== "ESRCH";
  }
}

/**
 * Runs a fixture program with node and collects its output; kills it after
 * `timeout` ms (a program that does not exit by itself is a failure). Its
 * temporary files go to a folder of its own, removed after `settled()`
 * resolves (so a program that is killed, or kills itself, leaves nothing).
 */
export async function runNode(fixture, args = [], timeout = 20_000, settled = async () => {}) {
  const tmp = mkdtempSync(join(tmpdir(), "multiproc-node-test-"));
  try {
    const result = await spawnNode(fixture, args, timeout, tmp);
    await settled(result);
    return result;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function spawnNode(fixture, args, timeout, tmp) {
  const file = fileURLToPath(new URL(`./fixtures/${fixture}`, import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, TMPDIR: tmp },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeout);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut, pid: child.pid });
    });
  });
}
