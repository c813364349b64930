/**
 * A real `redis-server` for the Redis tests: started on a free loopback port
 * in a temporary folder, stopped (and the folder removed) by `await using`.
 */

/** A running server. */
export interface RedisServer extends AsyncDisposable {
  /** `redis://127.0.0.1:<port>/0` (with the password, if any). */
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: no chance to save) and starts it again on the same port and folder. */
  restart(): Promise<void>;
  /** Kills the server (it stays down until restart()). */
  kill(): Promise<void>;
  /** Stops the server (SIGSTOP): connections stay open, nothing is answered (a silent network). */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
}

/** Options of {@linkcode startRedis}. */
export interface RedisServerOptions {
  /** Append-only file with `appendfsync always`: every acknowledged write survives a kill. */
  appendonly?: boolean;
  /** `requirepass`. */
  password?: string;
}

const INSTALL_HINT = "The Redis tests need redis-server (Redis >= 6.2 or Valkey) on PATH. " +
  "Install it with `apt-get install -y redis-server` (Debian/Ubuntu; .ci/run does this " +
  "before the test command) or your system's package manager, then run the tests again";

/** Finds redis-server on PATH, or throws saying what to install. */
export function redisServerPath(): string {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (!dir) continue;
    const path = `${dir}/redis-server`;
    try {
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // Not in this folder.
    }
  }
  throw new Error(
    `Cannot start the test Redis server as redis-server is not on PATH. ${INSTALL_HINT}`,
  );
}

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Whether the server answers a PING (a NOAUTH error counts: it is up). */
async function answers(port: number): Promise<boolean> {
  let conn: Deno.Conn | undefined;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    await conn.write(new TextEncoder().encode("PING\r\n"));
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    const reply = new TextDecoder().decode(buf.subarray(0, n ?? 0));
    return reply.startsWith("+PONG") || reply.startsWith("-NOAUTH");
  } catch {
    return false;
  } finally {
    conn?.close();
  }
}

/** Starts a server; stop it with `await using`. */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const binary = redisServerPath();
  const dir = await Deno.makeTempDir({ prefix: "multiproc-redis-" });
  const port = freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--daemonize",
    "no",
    "--appendonly",
    options.appendonly ? "yes" : "no",
    "--appendfsync",
    "always",
    "--loglevel",
    "warning",
  ];
  if (options.password) args.push("--requirepass", options.password);
  let child: Deno.ChildProcess | undefined;

  async function start(): Promise<void> {
    child = new Deno.Command(binary, { args, stdin: "null", stdout: "null", stderr: "piped" })
      .spawn();
    const deadline = Date.now() + 15_000;
    while (!(await answers(port))) {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        const { stderr } = await child.output();
        throw new Error(
          `Cannot start the test Redis server on port ${port}: ${new TextDecoder().decode(stderr)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function kill(): Promise<void> {
    if (!child) return;
    const c = child;
    child = undefined;
    try {
      c.kill("SIGKILL");
    } catch {
      // Already gone.
    }
    await c.stderr.cancel().catch(() => {});
    await c.status;
  }

  await start();
  const auth = options.password ? `:${encodeURIComponent(options.password)}@` : "";
  return {
    url: `redis://${auth}127.0.0.1:${port}/0`,
    port,
    kill,
    pause: () => child?.kill("SIGSTOP"),
    resume: () => child?.kill("SIGCONT"),
    async restart() {
      await kill();
      await start();
    },
    async [Symbol.asyncDispose]() {
      await kill();
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    },
  };
}
