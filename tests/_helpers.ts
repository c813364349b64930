/** Small intent helpers for tests that start real processes. */
import { Barrier, Event, toHandle, Value } from "../mod.ts";

/**
 * Opens what this process keeps for its whole life: its hub, listening, with its status file, and
 * libc (through FFI, where it can) for memory shared between processes. Call it outside any test,
 * so the resource sanitizer does not count these against the first test that needs them.
 */
export function openLifelongResources(): void {
  new Event()[toHandle]("process");
  new Barrier(1).broken; // Reads the status file (only the hub writes it).
  new Value("i", 0, { lock: false }).close();
}

/** A fresh temporary folder, removed by `await using`. */
export async function tempDir(): Promise<{ path: string } & AsyncDisposable> {
  const path = await Deno.makeTempDir({ prefix: "multiproc-test-" });
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true }).catch(() => {});
    },
  };
}

/** Reads a JSON file written by a child. */
export async function readJson<T = Record<string, unknown>>(path: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(path)) as T;
}

/**
 * The state letter of process `pid` in `/proc/<pid>/stat` (`R`, `S`, `Z` for a zombie…), or
 * `undefined` if there is no such process (it exited and was reaped).
 */
export function processState(pid: number): string | undefined {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0];
  } catch {
    return undefined;
  }
}

/**
 * Whether a process with this pid is running. A zombie (exited, its status not yet collected)
 * counts as not running: tests that claim nothing is left also check {@linkcode zombieChildren}.
 */
export function pidAlive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== "Z";
}

/** The pids of this process's children that exited and whose exit status nobody collected. */
export function zombieChildren(parent = Deno.pid): number[] {
  const zombies: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (fields[0] === "Z" && Number(fields[1]) === parent) zombies.push(Number(entry.name));
    } catch {
      // Gone meanwhile.
    }
  }
  return zombies;
}

/**
 * The zombie children of this process that stay zombies for `ms`: those
 * seen at first and still there when it is up (an empty list as soon as
 * those are gone). Test modules share one process under `--parallel`, so
 * another module's child may be seen between its exit and its reap, at any
 * moment; that one is collected within milliseconds, while a child nobody
 * reaps stays. `zombies` lists them (for tests of this helper).
 */
export async function lastingZombies(
  ms = 5000,
  zombies: () => number[] = zombieChildren,
): Promise<number[]> {
  const seen = new Set(zombies());
  if (seen.size === 0) return [];
  const lasting = () => zombies().filter((pid) => seen.has(pid));
  await eventually(() => lasting().length === 0, ms);
  return lasting();
}

/** Polls `predicate` every 25 ms until it is true; false if `ms` passes first. */
export async function eventually(
  predicate: () => boolean | Promise<boolean>,
  ms = 5000,
): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return await predicate();
}

/** Runs `deno run` on a program and returns its exit code and output (colours off). */
export async function runDeno(
  args: string[],
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  // The program's temporary files go to a folder removed afterwards, even if the program (or a
  // parent in it) was killed before it could clean up.
  await using tmp = await tempDir();
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...args],
    env: { NO_COLOR: "1", TMPDIR: tmp.path, ...options.env },
    cwd: options.cwd,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
