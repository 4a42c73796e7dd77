/**
 * `freePort`: ports no other process's outgoing connection can take, never
 * the same one twice in a process.
 *
 * @module
 */
import assert from "node:assert/strict";
import { freePort } from "../../ops/cluster/ports.ts";

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
