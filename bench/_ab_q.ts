import { Process, Queue } from "../mod.ts";
export async function producer(q: Queue<string>, n: number, size: number) {
  const s = "x".repeat(size);
  for (let i = 0; i < n; i++) await q.put(s + i);
}
export async function consumer(q: Queue<string>, n: number, done: Queue<number>) {
  for (let i = 0; i < n; i++) await q.get();
  await done.put(n);
}
if (import.meta.main) {
  const n = Number(Deno.args[0] ?? 50000);
  const size = Number(Deno.args[1] ?? 1000);
  const q = new Queue<string>();
  const done = new Queue<number>();
  const execArgv: string[] = Deno.env.get("PROF") ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : [];
  const t = performance.now();
  const p = new Process({ target: producer, args: [q, n, size], execArgv });
  const c = new Process({ target: consumer, args: [q, n, done], execArgv });
  p.start();
  c.start();
  await done.get();
  console.log((n / (performance.now() - t) * 1000).toFixed(0), "items/s");
  await p.join();
  await c.join();
}
