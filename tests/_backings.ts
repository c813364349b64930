/**
 * The places a primitive's state can live, for the backing contract tests:
 * this process's shared memory, the hub of a child process, and Redis (a real
 * redis-server started for the test, as tests/redis_test.ts does: when it is
 * missing, the Redis cases fail saying what to install).
 */
import { Process, Queue } from "../mod.ts";
import { connect, type Remote } from "../redis/mod.ts";
import { startRedis } from "./_redis_server.ts";
import { createOnRequest } from "./fixtures/backing_targets.ts";

/** Bound of every wait that must succeed: never reached by a passing test. */
export const LONG = 30_000;

/** A child process whose hub holds the objects it is asked to create. */
export interface ChildHub extends AsyncDisposable {
  /** Creates an object of `kind` in the child and returns its handle data. */
  create(kind: "event" | "semaphore" | "bounded", value?: number): Promise<Record<string, unknown>>;
}

/** Starts a child that creates objects on request, in its own hub; stopped by `await using`. */
export function childHub(): ChildHub {
  const requests = new Queue<string | null>();
  const replies = new Queue<string>();
  const p = new Process({ target: createOnRequest, args: [requests, replies] });
  p.start();
  return {
    async create(kind, value) {
      await requests.put(JSON.stringify([kind, value]));
      return JSON.parse(await replies.get({ timeout: LONG }));
    },
    async [Symbol.asyncDispose]() {
      await requests.put(null);
      await p.join({ timeout: LONG });
      await p[Symbol.asyncDispose]();
      if (p.exitCode !== 0) {
        throw new Error(`The child hub exited with ${p.exitCode}`, { cause: p.error });
      }
    },
  };
}

/** A redis-server and a connection to a fresh namespace on it; stopped by `await using`. */
export interface RedisPlace extends AsyncDisposable {
  readonly origin: { url: string; namespace: string };
  readonly remote: Remote;
}

/** Starts a redis-server (throws saying what to install if there is none). */
export async function redisPlace(): Promise<RedisPlace> {
  const server = await startRedis();
  const origin = { url: server.url, namespace: `t-${crypto.randomUUID().slice(0, 8)}` };
  const remote = await connect(origin.url, { namespace: origin.namespace });
  return {
    origin,
    remote,
    async [Symbol.asyncDispose]() {
      await remote.close();
      await server[Symbol.asyncDispose]();
    },
  };
}
