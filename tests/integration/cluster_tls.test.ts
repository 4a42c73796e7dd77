/**
 * `wss://` end to end: `deno task cluster --lb --tls` puts haproxy in front
 * of the gateways, terminating TLS with a throwaway certificate. A client in
 * its own process that trusts only the cluster's CA (`DENO_CERT`) connects
 * through it, gets its welcome and a pushed message; the same client without
 * the CA refuses the certificate.
 */
import assert from "node:assert/strict";
import { api, startTestCluster } from "../_support/cluster.ts";
import { opsTest } from "../_support/ops_tools.ts";

const PROBE = new URL("../_support/wss_probe.ts", import.meta.url).pathname;

/** Reads `stream` one line at a time. */
function lineReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    async next(): Promise<string | undefined> {
      while (!buffer.includes("\n")) {
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += value;
      }
      const at = buffer.indexOf("\n");
      const line = buffer.slice(0, at);
      buffer = buffer.slice(at + 1);
      return line;
    },
    release: () => reader.releaseLock(),
  };
}

function probe(url: string, env: Record<string, string>) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", PROBE, url],
    env: { ...env, NO_COLOR: "1" },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

opsTest(
  "cluster - wss:// through haproxy terminating TLS, certificate verified",
  [
    "etcd",
    "redis-server",
    "haproxy",
    "openssl",
  ],
  async () => {
    await using cluster = await startTestCluster({
      nodes: 2,
      routers: 1,
      lb: true,
      tls: true,
    });
    assert.ok(cluster.tlsCa, "no CA file");
    assert.match(cluster.lb!.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const token = await cluster.token("tess", { device: "laptop" });
    const url = `${cluster.lb!.url.replace(/^https/, "wss")}/ws?token=${token}`;
    const path = Deno.env.get("PATH") ?? "";

    // Trusting the cluster's CA: welcome, then the pushed message.
    const trusted = probe(url, { DENO_CERT: cluster.tlsCa, PATH: path });
    const lines = lineReader(trusted.stdout);
    const first = await lines.next();
    assert.ok(first !== undefined, "the probe closed without a frame");
    const welcome = JSON.parse(first);
    assert.equal(welcome.type, "welcome");
    assert.equal(welcome.userId, "tess");
    const push = await api(cluster, "POST", "/v1/push", {
      users: ["tess"],
      data: { over: "tls" },
    });
    assert.equal(push.status, 200, JSON.stringify(push.body));
    const second = await lines.next();
    assert.ok(second !== undefined, "no message frame");
    const message = JSON.parse(second);
    assert.equal(message.type, "message");
    assert.deepEqual(message.data, { over: "tls" });
    lines.release();
    const status = await trusted.status;
    await trusted.stderr.cancel();
    assert.equal(status.code, 0);

    // Not trusting it: the handshake fails on the certificate.
    const untrusted = probe(url, { PATH: path });
    const output = await untrusted.output();
    assert.equal(output.code, 1);
    assert.match(
      new TextDecoder().decode(output.stderr),
      /certificate|UnknownIssuer/i,
    );
  },
);
