/** TcpServer on Node.js: connections served here, by threads and by child processes. */
import { equal, match, ok, rejects, throws } from "node:assert/strict";
import net from "node:net";
import { test } from "node:test";
import { TcpServer } from "./_pkg.mjs";
import { broken, Reverser, upper } from "./fixtures/targets.mjs";
import { waitUntil } from "./_helpers.mjs";

/** Sends `text` and resolves with the first reply chunk. */
function ask(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
    socket.once("data", (data) => {
      resolve(String(data));
      socket.end();
    });
    socket.on("error", reject);
  });
}

/** Connects, sends `text`, and resolves once the server closes the connection. */
function sendAndWaitClose(port, text) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => socket.write(text));
    socket.on("data", () => {});
    socket.on("close", resolve);
    socket.on("error", reject);
  });
}

for (const mode of ["async", "thread", "process"]) {
  test(`TcpServer "${mode}" answers concurrent clients with the exported handler`, async () => {
    const server = new TcpServer({ port: 0, handler: upper, mode, workers: 1 });
    const serving = server.serveForever();
    const { port } = server.address;
    ok(port > 0);
    const replies = await Promise.all(["a", "b", "c", "d"].map((x) => ask(port, x)));
    for (const [i, reply] of replies.entries()) match(reply, new RegExp(`^${"ABCD"[i]} \\d+$`));
    const pids = new Set(replies.map((r) => Number(r.split(" ")[1])));
    if (mode === "process") ok(!pids.has(process.pid), "served by child processes");
    else equal(pids.has(process.pid), true);
    await server.shutdown();
    await serving;
  });
}

test("a BaseRequestHandler subclass serves in a child process", async () => {
  const server = new TcpServer({ port: 0, handler: Reverser, mode: "process", workers: 1 });
  const serving = server.serveForever();
  equal(await ask(server.address.port, "abc"), "cba");
  await server.shutdown();
  await serving;
});

test("a handler that throws in a thread ends its connection only and is logged with the client", async () => {
  const logged = [];
  class Quiet extends TcpServer {
    handleError(error, client) {
      logged.push([error, client]);
    }
  }
  const server = new Quiet({ port: 0, handler: broken, mode: "thread", workers: 1 });
  const serving = server.serveForever();
  await sendAndWaitClose(server.address.port, "x");
  await sendAndWaitClose(server.address.port, "y");
  await waitUntil(() => logged.length >= 2, "both errors to be logged");
  await server.shutdown();
  await serving;
  equal(logged.length, 2);
  equal(logged[0][0].name, "RangeError");
  equal(logged[0][0].message, "handler failure");
  equal(logged[0][1].hostname, "127.0.0.1");
});

test("a port in use throws AddrInUse from the constructor", async () => {
  const first = new TcpServer({ port: 0, handler: upper });
  throws(() => new TcpServer({ port: first.address.port, handler: upper }), { name: "AddrInUse" });
  await first.shutdown();
});

const [major, minor] = process.versions.node.split(".").map(Number);
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

test(
  "prefork modes say clearly when this Node.js has no reusePort",
  { skip: hasReusePort },
  async () => {
    throws(() => new TcpServer({ port: 0, handler: upper, mode: "prefork-thread" }), /reusePort/);
    const server = new TcpServer({ port: 0, handler: upper, mode: "prefork-process", workers: 1 });
    await rejects(server.listening, /reusePort/);
    await rejects(server.serveForever(), /reusePort/);
    await server.shutdown();
  },
);
