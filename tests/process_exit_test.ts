/** Process children when their program ends: daemon children are terminated, others waited for, also after Deno.exit() or a SIGKILL of the parent. */
import { equal, ok, rejects } from "node:assert/strict";
import { eventually, pidAlive, tempDir } from "./_helpers.ts";
import { FIXTURES, LONG } from "./_process.ts";

/** A program run by `deno run -A` whose first line of output (JSON) was read; killed on dispose. */
interface Program extends AsyncDisposable {
  pid: number;
  first: Record<string, number>;
  status: Promise<Deno.CommandStatus>;
}

/** Whether `pid` is a running child process started by this library (its bootstrap). */
function isLibraryChild(pid: number): boolean {
  try {
    return pidAlive(pid) &&
      Deno.readTextFileSync(`/proc/${pid}/cmdline`).includes("process/_bootstrap.ts");
  } catch {
    return false;
  }
}

/** Starts a fixture program with `dir` as its argument and temporary folder, and reads its first line. */
async function startProgram(fixture: string, dir: string): Promise<Program> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL(fixture, FIXTURES).pathname, dir],
    env: { TMPDIR: dir }, // a killed parent cannot remove its private folder itself
    stdout: "piped",
    stderr: "inherit",
    stdin: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  await reader.cancel();
  const first = JSON.parse(text.split("\n")[0]) as Record<string, number>;
  return {
    pid: child.pid,
    first,
    status: child.status,
    async [Symbol.asyncDispose]() {
      // Only after a failure is anything still running here. A pid is checked to still be one of
      // the library's children (a pid of one that exited may have been reused meanwhile).
      for (const pid of Object.values(first)) if (isLibraryChild(pid)) Deno.kill(pid, "SIGKILL");
      try {
        child.kill("SIGKILL");
      } catch {
        // Exited already.
      }
      await child.status;
    },
  };
}

Deno.test("When the main module ends, daemon children are terminated at once, while the parent still runs, and others are waited for", async () => {
  await using dir = await tempDir();
  await using program = await startProgram("lifecycle_main.ts", dir.path);
  const { daemon, worker } = program.first;
  // The parent stays alive (its non-daemon child runs until told to stop), so the daemon's
  // lifeline, which fires only once the parent is gone, cannot be what ends the daemon.
  ok(await eventually(() => !pidAlive(daemon), LONG), "the daemon outlived the main module");
  ok(pidAlive(program.pid), "the parent exited before its non-daemon child was done");
  ok(pidAlive(worker), "the non-daemon child was terminated too");
  await Deno.writeTextFile(`${dir.path}/stop`, "");
  equal((await program.status).code, 0);
  equal(await Deno.readTextFile(`${dir.path}/worker`), "ran");
  await rejects(Deno.stat(`${dir.path}/daemon`));
});

Deno.test("Deno.exit() in the parent terminates daemon children, even one whose event loop is busy", async () => {
  await using dir = await tempDir();
  await using program = await startProgram("exit_main.ts", dir.path);
  equal((await program.status).code, 3);
  // The daemon is in a busy loop: its lifeline cannot run, only the parent's exit hook can end it
  // before its loop does (60 s, beyond this bound).
  ok(
    await eventually(() => !pidAlive(program.first.daemon), LONG),
    "the daemon outlived its parent's Deno.exit()",
  );
});

Deno.test("When the parent is SIGKILLed, daemon children exit and non-daemon children finish their work", async () => {
  await using dir = await tempDir();
  await using program = await startProgram("killed_parent.ts", dir.path);
  const pids = program.first;
  ok(pidAlive(pids.daemon) && pidAlive(pids.worker));
  Deno.kill(program.pid, "SIGKILL");
  await program.status;
  ok(
    await eventually(() => !pidAlive(pids.daemon), LONG),
    "daemon child outlived its killed parent",
  );
  ok(
    await eventually(() => !pidAlive(pids.worker), LONG),
    "worker child did not exit after its work",
  );
  equal(await Deno.readTextFile(`${dir.path}/worker`), "ran");
  await rejects(Deno.stat(`${dir.path}/daemon`));
});
