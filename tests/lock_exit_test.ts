/** A program ends when its main module ends, whatever locks it holds (as in Python). */
import { equal } from "node:assert/strict";
import { tempDir } from "./_helpers.ts";

const FIXTURE = new URL("./fixtures/lock_held_at_exit.ts", import.meta.url).pathname;
/** A hang guard only: the program exits at once unless it is broken. */
const HANG_MS = 15_000;

for (const kind of ["lock", "rlock"]) {
  for (const sharedMemory of ["1", "0"]) {
    Deno.test(
      `A program that ends holding a ${kind} it shared with a child exits (shared memory ${sharedMemory})`,
      async () => {
        await using tmp = await tempDir();
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "-A", FIXTURE, kind],
          env: { NO_COLOR: "1", TMPDIR: tmp.path, MULTIPROC_SHARED_MEMORY: sharedMemory },
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const guard = setTimeout(() => child.kill("SIGKILL"), HANG_MS);
        const output = await child.output();
        clearTimeout(guard);
        const stderr = new TextDecoder().decode(output.stderr);
        equal(output.signal, null, `the program hung and was killed: ${stderr}`);
        equal(output.code, 0, stderr);
        equal(
          new TextDecoder().decode(output.stdout).trim(),
          "child exited with 0, lock held: true",
        );
      },
    );
  }
}
