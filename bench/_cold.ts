import { Event, Process, Queue } from "../mod.ts";
export async function producer(q: Queue<string>, n: number, ready: Event, start: Event, out: Queue<string>): Promise<void> {
  ready.set(); await start.wait();
  const t = performance.now(); const marks: number[] = [];
  for (let i = 0; i < n; i++) { await q.put(`item-${String(i).padStart(5, "0")}-` + "x".repeat(1013)); if (i % 5000 === 4999) marks.push(Math.round(performance.now() - t)); }
  await out.put("producer " + marks.join(" "));
}
export async function consumer(q: Queue<string>, n: number, ready: Event, start: Event, out: Queue<string>): Promise<void> {
  ready.set(); await start.wait();
  const t = performance.now(); const marks: number[] = [];
  for (let i = 0; i < n; i++) { await q.get(); if (i % 5000 === 4999) marks.push(Math.round(performance.now() - t)); }
  await out.put("consumer " + marks.join(" ") + " " + ((globalThis as any).__log ?? []).slice(0, 60).join(" "));
}
if (import.meta.main) {
  for (let r = 0; r < Number(Deno.env.get("REPS") ?? 3); r++) {
    const n = 20000; const q = new Queue<string>(); const out = new Queue<string>();
    const start = new Event(), rp = new Event(), rc = new Event();
    const execArgv = Deno.env.get("PROF") ? ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"] : [];
    const p = new Process({ target: producer, args: [q, n, rp, start, out], execArgv });
    const c = new Process({ target: consumer, args: [q, n, rc, start, out], execArgv });
    p.start(); c.start(); await rp.wait(); await rc.wait();
    const t = performance.now(); start.set();
    const a = await out.get(), b = await out.get();
    console.log(Math.round(performance.now() - t), "ms |", a, "|", b);
    await p.join(); await c.join();
  }
}
