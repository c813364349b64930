#!/usr/bin/env -S deno run --allow-run --allow-read --allow-write
/**
 * Seed section "16-模拟抢票" (ticket-buying simulation): ten passers-by
 * check a JSON "db" holding one ticket and then try to buy it, in three
 * variants:
 *
 * - (a) no lock: the searches run concurrently, and so do the purchases,
 *   so several buyers can read `count: 1` before anyone writes `0`: the
 *   ticket is oversold (likely, not guaranteed: it is a race).
 * - (b) a Lock around `get()` only: the searches stay concurrent, the
 *   purchases are serial, exactly one ticket is sold.
 * - (c) start+join each process in turn: also exactly one sold, but now
 *   the searches are serial too, which the seed's summary calls the
 *   difference between join (serialises the whole task) and a mutex
 *   (serialises only the lines that need it).
 *
 * The seed's sleeps of 1 s (search, get) and 2 s (before writing) are
 * 100 ms and 200 ms here. How many tickets were sold is counted in a
 * shared {@linkcode Value} (atomically): the db itself cannot tell,
 * since every oversold buyer writes the same `count: 0`.
 */
import { Lock, Process, Value } from "../mod.ts";
import { sleep } from "./_util.ts";

interface Db {
  count: number;
}

async function load(db: string): Promise<Db> {
  return JSON.parse(await Deno.readTextFile(db)) as Db;
}

/**
 * Writes the db atomically: a temporary file in the same folder, then a
 * rename over the old one, so a concurrent reader sees either the old or
 * the new contents. The seed's `json.dump(dic, open('db.txt', 'w'))`
 * truncates the file first, so in variant (a) a buyer reading at that
 * moment can see an empty or half-written file and crash: a second,
 * hidden race besides the overselling the lesson is about.
 */
export async function save(db: string, data: Db): Promise<void> {
  const tmp = `${db}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(data));
  await Deno.rename(tmp, db);
}

/** Checks the remaining tickets (concurrently in every variant but c). */
export async function search(name: string, db: string): Promise<void> {
  await sleep(100); // the network delay of the seed's random.randrange(1, 2)
  const { count } = await load(db);
  console.log(`<${name}> sees ${count} ticket(s) left`);
}

/** Buys a ticket if one is left; counts the sale in `sold`. */
export async function get(name: string, db: string, sold: Value<"i">): Promise<void> {
  await sleep(100); // network delay before reading
  const data = await load(db);
  if (data.count > 0) {
    data.count -= 1;
    await sleep(200); // network delay before writing
    await save(db, data);
    sold.add(1);
    console.log(`<${name}> bought a ticket`);
  } else {
    console.log(`<${name}> failed to buy a ticket`);
  }
}

/** Variants a and c: search, then get, no lock. */
export async function task(name: string, db: string, sold: Value<"i">): Promise<void> {
  await search(name, db);
  await get(name, db, sold);
}

/** Variant b: search concurrently, get under the lock. */
export async function taskLocked(
  name: string,
  db: string,
  sold: Value<"i">,
  mutex: Lock,
): Promise<void> {
  await search(name, db);
  await using _ = await mutex.hold(); // mutex.acquire() … mutex.release()
  await get(name, db, sold);
}

const BUYERS = 10;

async function variant(
  label: string,
  title: string,
  db: string,
  run: (sold: Value<"i">, names: string[]) => Promise<void>,
): Promise<void> {
  console.log(`variant ${label}: ${title}`);
  await save(db, { count: 1 });
  const sold = new Value("i", 0);
  const names = Array.from({ length: BUYERS }, (_, i) => `passer-by ${i}`);
  await run(sold, names);
  const { count } = await load(db);
  console.log(`variant ${label}: sold ${sold.value} of 1 (db count now ${count})`);
}

if (import.meta.main) {
  const dir = await Deno.makeTempDir({ prefix: "tickets-" });
  const db = `${dir}/db.json`;
  try {
    await variant("a", "no lock", db, async (sold, names) => {
      const ps = names.map((name) => new Process({ target: task, args: [name, db, sold] }));
      for (const p of ps) p.start();
      for (const p of ps) await p.join();
    });

    await variant("b", "a lock around get() only", db, async (sold, names) => {
      const mutex = new Lock();
      const ps = names.map((name) =>
        new Process({ target: taskLocked, args: [name, db, sold, mutex] })
      );
      for (const p of ps) p.start();
      for (const p of ps) await p.join();
    });

    await variant("c", "start + join each process (serial)", db, async (sold, names) => {
      for (const name of names) {
        const p = new Process({ target: task, args: [name, db, sold] });
        p.start();
        await p.join();
      }
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
