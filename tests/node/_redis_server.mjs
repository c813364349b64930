/**
 * A real `redis-server` for the Node tests of `@multiproc/multiproc/redis`
 * (the Node twin of `tests/_redis_server.ts`): started on a free loopback
 * port in a temporary folder, stopped (and the folder removed) by `stop()`.
 * Without redis-server on PATH it throws saying what to install.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The redis-server binary on PATH, or an error saying what to install. */
function redisServerPath() {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    if (!dir) continue;
    try {
      accessSync(join(dir, "redis-server"), constants.X_OK);
      return join(dir, "redis-server");
    } catch {
      // Not in this folder.
    }
  }
  throw new Error(
    "Cannot start the test Redis server as redis-server is not on PATH. Install it with " +
      "`apt-get install -y redis-server` (Debian/Ubuntu; .ci/run does this before the test " +
      "command) or your system's package manager, then run the tests again",
  );
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Whether the server answers a PING. */
function answers(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

/**
 * Starts a server.
 *
 * @returns {Promise<{ url: string, port: number, stop(): Promise<void> }>}
 */
export async function startRedis() {
  const binary = redisServerPath();
  const dir = mkdtempSync(join(tmpdir(), "multiproc-node-redis-"));
  const port = await freePort();
  const child = spawn(binary, [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--loglevel",
    "warning",
  ], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15_000;
  while (!(await answers(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`Cannot start the test Redis server on port ${port}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // polling, bounded by the deadline
  }
  return { url: `redis://127.0.0.1:${port}/0`, port, stop };
}
