/**
 * `freePort`: ports no other process's outgoing connection can take, never
 * the same one twice in a process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../../ops/cluster/ports.ts";

// First in the file: no port is handed out in this process yet.
Deno.test("free port - never a port that fetch refuses (10080 is on the Fetch standard's bad-port list)", () => {
  const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range")
    .trim().split(/\s+/).map(Number);
  const span = low! - 10_000;
  const random = Math.random;
  let first = true;
  // The first candidate drawn is 10080; later ones are random again.
  Math.random = () => {
    if (!first) return random();
    first = false;
    return (10_080 - 10_000 + 0.5) / span;
  };
  try {
    assert.notEqual(freePort(), 10_080);
  } finally {
    Math.random = random;
  }
});

Deno.test("free port - below the kernel's ephemeral range, distinct, and bindable", () => {
  const [low] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range")
    .trim().split(/\s+/).map(Number);
  const ports = Array.from({ length: 300 }, freePort);
  assert.equal(new Set(ports).size, ports.length, "no port handed out twice");
  for (const port of ports) {
    assert.ok(port < low!, `${port} is in the ephemeral range from ${low}`);
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: ports[0]! });
  listener.close();
});

Deno.test("free port - a port taken by a listener is not handed out", () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: freePort() });
  try {
    const busy = (taken.addr as Deno.NetAddr).port;
    for (let i = 0; i < 300; i++) assert.notEqual(freePort(), busy);
  } finally {
    taken.close();
  }
});
