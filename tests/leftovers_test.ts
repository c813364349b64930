/**
 * The private folder's lifetime: removed on every exit the runtime lets a
 * program see, and swept by the next program when its owner was killed
 * (pid and start time checked, a live owner's folder never touched). Each
 * program runs with a TMPDIR of its own, so the exact set of folders in it
 * can be asserted.
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { tempDir } from "./_helpers.ts";

const PROGRAM = new URL("./fixtures/leftovers_program.ts", import.meta.url).pathname;

function folders(tmp: string): string[] {
  return [...Deno.readDirSync(tmp)].map((entry) => entry.name).sort();
}

/** Runs the program to its end (with `-A` unless `permissions` are given); returns its status and output. */
async function run(tmp: string, how: string, permissions = ["-A"]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, PROGRAM, how],
    env: { NO_COLOR: "1", TMPDIR: tmp },
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    ...output,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Starts the program in its waiting mode and resolves once it says it is ready. */
async function startWaiting(tmp: string) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROGRAM, "wait"],
    env: { NO_COLOR: "1", TMPDIR: tmp },
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    out += value;
  }
  reader.releaseLock();
  ok(out.includes("ready\n"), `the program did not get ready:\n${out}`);
  return {
    child,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already ended.
      }
      await child.status;
      await child.stdout.cancel().catch(() => {});
    },
  };
}

/** This process's pid namespace inode, in base 36 (as in the folder names). */
const NAMESPACE = Number(/\d+/.exec(Deno.readLinkSync("/proc/self/ns/pid"))![0]).toString(36);

/** The start time of process `pid`, in base 36 (as in the folder names). */
function startTime(pid: number): string {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]).toString(36);
}

/** The name of a folder in the temporary folder owned by `pid` started at `start` (base 36). */
function ownerName(pid: number, start: string, namespace = NAMESPACE): string {
  return `multiproc-${pid}-${start}-${namespace}-abcdef`;
}

for (
  const [how, code, output] of [
    ["end", 0, /got 1/],
    ["throw", 1, /error: Uncaught Error: uncaught on purpose/],
    ["reject", 1, /error: Uncaught \(in promise\) Error: unhandled on purpose/],
    ["exit", 3, /got 1/],
  ] as const
) {
  Deno.test(`The private folder is gone right after a program ends by "${how}"`, async () => {
    await using tmp = await tempDir();
    const result = await run(tmp.path, how);
    equal(result.code, code, result.stderr);
    match(result.stdout + result.stderr, output);
    deepEqual(folders(tmp.path), []);
  });
}

for (const length of [80, 100]) {
  Deno.test(`A program whose TMPDIR is ${length} characters long still shares a queue with a child, and leaves no folder`, async () => {
    // Unix socket paths are limited to 107 bytes: the private folder moves to a shorter path
    // (without its random suffix, or in /tmp) instead of failing to listen.
    await using tmp = await tempDir();
    const long = `${tmp.path}/${"t".repeat(length - tmp.path.length - 1)}`;
    await Deno.mkdir(long);
    equal(long.length, length);
    const result = await run(long, "end");
    equal(result.code, 0, result.stderr);
    match(result.stdout, /got 1/);
    deepEqual(folders(long), []);
  });
}

Deno.test("A program with scoped permissions (no /proc, no --allow-sys) works and leaves no folder", async () => {
  await using tmp = await tempDir();
  const scoped = ["--allow-read", "--allow-write", "--allow-run", "--allow-net", "--allow-env"];
  for (const how of ["end", "throw"]) {
    const result = await run(tmp.path, how, scoped);
    equal(result.code, how === "end" ? 0 : 1, result.stderr);
    match(result.stdout, /got 1/);
    deepEqual(folders(tmp.path), [], how);
  }
});

Deno.test("An uncaught error the program handles itself leaves the folder usable until the program ends", async () => {
  await using tmp = await tempDir();
  const result = await run(tmp.path, "handled");
  equal(result.code, 0, result.stderr);
  match(result.stdout, /handled: Uncaught Error: handled on purpose\nstill usable: 2\n/);
  deepEqual(folders(tmp.path), []);
});

for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"] as const) {
  Deno.test(`A program ended by ${signal} removes its folder and still dies by ${signal}`, async () => {
    await using tmp = await tempDir();
    await using program = await startWaiting(tmp.path);
    equal(folders(tmp.path).length, 1);
    program.child.kill(signal);
    const status = await program.child.status;
    equal(status.signal, signal);
    deepEqual(folders(tmp.path), []);
  });
}

Deno.test("A SIGKILLed program's folder stays until the next program starts, which sweeps it", async () => {
  await using tmp = await tempDir();
  {
    await using program = await startWaiting(tmp.path);
    const [folder] = folders(tmp.path);
    match(folder, new RegExp(`^multiproc-${program.child.pid}-[0-9a-z]+-${NAMESPACE}-`));
    program.child.kill("SIGKILL");
    equal((await program.child.status).signal, "SIGKILL");
    deepEqual(folders(tmp.path), [folder], "the killed program's folder is left");
  }
  const result = await run(tmp.path, "end");
  equal(result.code, 0, result.stderr);
  deepEqual(folders(tmp.path), []);
});

Deno.test("The sweep keeps the folders of live owners and of other schemes, and removes a reused pid's", async () => {
  await using tmp = await tempDir();
  // This test process is alive: its folder, with its true start time, must stay.
  const live = ownerName(Deno.pid, startTime(Deno.pid));
  // The same live pid with another start time: the pid was reused, the owner is gone.
  const reused = ownerName(Deno.pid, (parseInt(startTime(Deno.pid), 36) - 1).toString(36));
  // A live owner whose start time could not be read: kept (liveness cannot be verified).
  const unknown = ownerName(Deno.pid, "x");
  // No such pid here, but in another pid namespace (a container sharing the temporary folder): kept.
  const elsewhere = ownerName(2 ** 22 + 4, "1", (parseInt(NAMESPACE, 36) + 1).toString(36));
  // A dead owner whose nested child is alive: kept for the child.
  const parent = ownerName(2 ** 22 + 1, "1");
  const nestedLive = `multiproc-${Deno.pid}-${startTime(Deno.pid)}-${NAMESPACE}`;
  // A dead owner (no such pid: above the kernel's largest) whose nested child is gone too: removed.
  const dead = ownerName(2 ** 22 + 2, "1");
  const nestedDead = `multiproc-${2 ** 22 + 3}-1-${NAMESPACE}`;
  // Not our naming scheme: never touched.
  const other = "multiproc-0123456789abcdef";
  for (
    const name of [
      live,
      reused,
      unknown,
      elsewhere,
      parent,
      `${parent}/${nestedLive}`,
      dead,
      `${dead}/${nestedDead}`,
      other,
    ]
  ) {
    Deno.mkdirSync(`${tmp.path}/${name}`);
    Deno.writeTextFileSync(`${tmp.path}/${name}/file`, "x");
  }
  const result = await run(tmp.path, "end");
  equal(result.code, 0, result.stderr);
  deepEqual(folders(tmp.path), [other, live, parent, unknown, elsewhere].sort());
});
