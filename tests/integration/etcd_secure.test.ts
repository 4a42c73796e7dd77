/**
 * The registry against a real etcd with TLS, client-certificate auth and
 * RBAC on: it works with the settings of `shared/config.ts`
 * (`WSGW_ETCD_CA`, `_CERT`, `_KEY`, a user and password, also given as
 * `user:pass@` in `WSGW_ETCD`), `ping()` (what `/readyz` asks) fails when the
 * user cannot read the registry, and no password reaches an error or a log.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../shared/config.ts";
import { createLogger } from "../../shared/log.ts";
import { EtcdRegistry, type EtcdSecurity } from "../../shared/registry/etcd.ts";
import { makeTestCerts, type TestCerts } from "../_support/tls_certs.ts";
import { freePort, waitFor } from "../_support/until.ts";

const PASSWORD = "wsgw-etcd-pw-7f3a";

/** etcd on https with `--client-cert-auth`, auth enabled, a `wsgw` role on `/wsgw/`. */
async function startSecureEtcd(certs: TestCerts) {
  const dir = await Deno.makeTempDir({ prefix: "wsgw-etcd-tls-" });
  const client = freePort();
  const peer = freePort();
  const listen = `https://127.0.0.1:${client}`;
  // A host name: Deno's TLS refuses an IP address as the server name.
  const endpoint = `https://localhost:${client}`;
  const child = new Deno.Command("etcd", {
    args: [
      "--name=tls",
      `--data-dir=${dir}`,
      `--listen-client-urls=${listen}`,
      `--advertise-client-urls=${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
      `--initial-cluster=tls=http://127.0.0.1:${peer}`,
      `--cert-file=${certs.server.cert}`,
      `--key-file=${certs.server.key}`,
      `--trusted-ca-file=${certs.ca}`,
      "--client-cert-auth",
      "--log-level=warn",
      "--heartbeat-interval=10",
      "--election-timeout=100",
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const root = await certs.client("root");
  const etcdctl = async (...args: string[]) => {
    const { code, stdout, stderr } = await new Deno.Command("etcdctl", {
      args: [
        `--endpoints=${endpoint}`,
        `--cacert=${certs.ca}`,
        `--cert=${root.cert}`,
        `--key=${root.key}`,
        ...args,
      ],
      env: { ETCDCTL_API: "3" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const decoder = new TextDecoder();
    if (code !== 0) {
      throw new Error(`etcdctl ${args.join(" ")}: ${decoder.decode(stderr)}`);
    }
    return decoder.decode(stdout);
  };
  await waitFor(async () => {
    try {
      await etcdctl("endpoint", "health");
      return true;
    } catch {
      return false;
    }
  }, { timeout: 15000, what: "etcd over TLS" });
  await etcdctl("user", "add", "root:root-pw-1");
  await etcdctl("role", "add", "wsgw");
  await etcdctl(
    "role",
    "grant-permission",
    "wsgw",
    "--prefix=true",
    "readwrite",
    "/wsgw/",
  );
  await etcdctl("user", "add", `wsgw:${PASSWORD}`);
  await etcdctl("user", "grant-role", "wsgw", "wsgw");
  await etcdctl("user", "add", `stranger:${PASSWORD}`);
  await etcdctl("auth", "enable");
  return {
    endpoint,
    async [Symbol.asyncDispose]() {
      child.kill("SIGKILL");
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}

Deno.test("etcd security - TLS, client certificates and RBAC: the registry works with its own user, ping fails without read access, no password is shown", async (t) => {
  await using certs = await makeTestCerts();
  await using etcd = await startSecureEtcd(certs);
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
  const ca = await Deno.readFile(certs.ca);
  const wsgwCert = await certs.client("wsgw");
  const tls = {
    ca,
    cert: await Deno.readFile(wsgwCert.cert),
    key: await Deno.readFile(wsgwCert.key),
  };
  const open = (security: EtcdSecurity, timeout = 5000) =>
    EtcdRegistry.connect({
      endpoints: [etcd.endpoint],
      prefix: "/wsgw",
      leaseTtl: 5,
      log,
      security,
      recordSecrets: ["r".repeat(32)],
      connectTimeout: timeout,
    });

  await t.step(
    "user:pass@ in WSGW_ETCD becomes the etcd login and leaves the endpoint",
    () => {
      const { config } = loadConfig({
        WSGW_ETCD: `https://wsgw:${PASSWORD}@localhost:${
          new URL(etcd.endpoint).port
        }`,
        WSGW_REDIS: "redis://127.0.0.1:1",
        WSGW_API_KEYS: "k".repeat(32),
        WSGW_JWT_SECRET: "j".repeat(32),
        WSGW_INTERNAL_SECRET: "i".repeat(32),
        WSGW_ETCD_CA: certs.ca,
        WSGW_ETCD_CERT: wsgwCert.cert,
        WSGW_ETCD_KEY: wsgwCert.key,
      }, "gateway");
      assert.deepEqual(config.etcd, [etcd.endpoint]);
      assert.equal(config.etcdUsername, "wsgw");
      assert.equal(config.etcdPassword, PASSWORD);
      assert.deepEqual(config.etcdTls, {
        ca: certs.ca,
        cert: wsgwCert.cert,
        key: wsgwCert.key,
      });
    },
  );

  await t.step(
    "the wsgw user joins, registers, reads and watches",
    async () => {
      await using registry = await open({
        ...tls,
        username: "wsgw",
        password: PASSWORD,
      });
      await registry.ping();
      await using member = await registry.join({
        nodeId: "gw-1",
        url: "http://127.0.0.1:1",
        internalUrl: "http://127.0.0.1:2",
        startedAt: 1,
        draining: false,
      });
      await member.register("alice");
      assert.deepEqual(await registry.owners("alice"), ["gw-1"]);
      assert.deepEqual((await registry.nodes()).map((n) => n.nodeId), ["gw-1"]);
      const abort = new AbortController();
      for await (const event of registry.watch(abort.signal)) {
        assert.equal(event.type, "reset");
        if (event.type === "reset") {
          assert.deepEqual(event.users, [{ user: "alice", nodeId: "gw-1" }]);
        }
        abort.abort();
      }
    },
  );

  await t.step("a client certificate alone logs in as its CN", async () => {
    await using registry = await open(tls);
    await registry.ping();
  });

  await t.step(
    "a user without read access fails ping (so /readyz says 503)",
    async () => {
      const stranger = await certs.client("stranger");
      // connect() waits for a ping to succeed: with only a status call it
      // did, though every read of this user fails.
      await assert.rejects(
        open({
          ca,
          cert: await Deno.readFile(stranger.cert),
          key: await Deno.readFile(stranger.key),
          username: "stranger",
          password: PASSWORD,
        }, 1000),
        /did not answer/,
      );
    },
  );

  await t.step(
    "a wrong password or an unknown CA fails, naming neither password",
    async () => {
      for (
        const security of [
          { ...tls, username: "wsgw", password: `${PASSWORD}-wrong` },
          { username: "wsgw", password: PASSWORD },
        ]
      ) {
        await assert.rejects(open(security, 1000), (error: Error) => {
          const text = `${error.message} ${error.cause}`;
          assert.ok(!text.includes(PASSWORD), text);
          return true;
        });
      }
    },
  );

  assert.ok(lines.length > 0);
  for (const line of lines) assert.ok(!line.includes(PASSWORD), line);
});
