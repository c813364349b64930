/** What the Redis tests share: fresh namespaces, and hosts (programs with no common parent) started on a server. */
export const FIXTURES = new URL("./fixtures/", import.meta.url);

export const HANG_GUARD = { timeout: 30_000 };

export function namespace(): string {
  return `t-${crypto.randomUUID().slice(0, 8)}`;
}

// ---- A "host": a program with its own `deno run`, no common parent with the others ----

export interface Host extends AsyncDisposable {
  /** The next JSON line it printed (rejects if it exits first or after 60 s). */
  next(): Promise<Record<string, unknown>>;
  /** Every remaining line, once it has exited. */
  rest(): Promise<Record<string, unknown>[]>;
  kill(): Promise<void>;
  status: Promise<Deno.CommandStatus>;
}

export function host(
  url: string,
  role: string,
  ns: string,
  name: string,
  ...args: string[]
): Host {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("redis_host.ts", FIXTURES).pathname,
      role,
      ns,
      name,
      ...args,
    ],
    env: { REDIS_URL: url, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let ended = false;
  async function line(): Promise<string | undefined> {
    for (;;) {
      const at = buffer.indexOf("\n");
      if (at >= 0) {
        const l = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        return l;
      }
      if (ended) return undefined;
      const { value, done } = await lines.read();
      if (done) ended = true;
      else buffer += value;
    }
  }
  let guard: ReturnType<typeof setTimeout> | undefined;
  return {
    status: child.status,
    async next() {
      const timeout = new Promise<never>((_, reject) => {
        guard = setTimeout(
          () => reject(new Error(`host ${role} printed nothing in 60 s`)),
          60_000,
        );
      });
      try {
        const l = await Promise.race([line(), timeout]);
        if (l === undefined) {
          throw new Error(
            `host ${role} exited: ${JSON.stringify(await child.status)}`,
          );
        }
        return JSON.parse(l);
      } finally {
        clearTimeout(guard);
      }
    },
    async rest() {
      const out = [];
      for (let l = await line(); l !== undefined; l = await line()) {
        out.push(JSON.parse(l));
      }
      return out;
    },
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
    },
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await child.status;
      while (!ended) {
        const { done } = await lines.read();
        if (done) ended = true;
      }
    },
  };
}
