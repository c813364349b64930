/**
 * Prefork servers when handlers crash their worker: the crash ends the
 * connections that worker was serving and no others, and the worker is
 * replaced at once, so that after every worker has crashed new clients are
 * served again. "prefork-thread" needs `--unstable-net` in the server's own
 * process, so it runs in a program of its own.
 */
import { equal } from "node:assert/strict";
import { runDeno } from "./_helpers.ts";
import { crashEveryWorker, strayRejection } from "./fixtures/net_prefork_handlers.ts";

const PROGRAM = new URL("./fixtures/net_prefork_handlers.ts", import.meta.url).pathname;

Deno.test('TcpServer "prefork-process": a crashed worker takes only its connections, and after every worker crashed new clients are served', async () => {
  equal((await crashEveryWorker("prefork-process")).crashed, 6);
});

Deno.test('TcpServer "prefork-thread": a crashed worker thread takes only its connections, and after every worker crashed new clients are served', async () => {
  const result = await runDeno(["-A", "--unstable-net", PROGRAM, "prefork-thread"]);
  equal(result.code, 0, result.stderr);
  equal(JSON.parse(result.stdout).crashed, 6);
});

Deno.test('TcpServer "prefork-process": a rejection nobody handles ends the worker process and its connections', async () => {
  equal(await strayRejection("prefork-process"), "closed");
});

Deno.test('TcpServer "prefork-thread": a rejection nobody handles is logged and the worker thread serves on', async () => {
  const result = await runDeno(["-A", "--unstable-net", PROGRAM, "prefork-thread", "stray"]);
  equal(result.code, 0, result.stderr);
  equal(JSON.parse(result.stdout), "served");
});
