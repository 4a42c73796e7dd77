import assert from "node:assert/strict";
import { InternalUrlPolicy } from "../../shared/internal_url_policy.ts";
import { loadConfig } from "../../shared/config.ts";
import { ConfigError } from "../../shared/errors.ts";

Deno.test("internal URL policy - the private default", () => {
  const policy = new InternalUrlPolicy(["private"]);
  for (
    const ok of [
      "http://127.0.0.1:9001",
      "http://10.1.2.3:9001",
      "https://172.31.0.1",
      "http://192.168.1.10:80",
      "http://[::1]:9001",
      "http://[fd12::1]:9001",
      "http://gateway1:9001",
      "http://localhost:9001",
      "http://gw-1.wsgw.svc.cluster.local:9001",
      "http://gw.corp.internal",
    ]
  ) assert.equal(policy.refusal(ok), undefined, ok);
  for (
    const bad of [
      "http://169.254.169.254/latest/meta-data",
      "http://[::ffff:169.254.169.254]/",
      "http://8.8.8.8:9001",
      "http://172.32.0.1",
      "http://[2001:db8::1]/",
      "http://evil.example.com",
      "ftp://10.0.0.1",
      "file:///etc/passwd",
      "http://user:pass@10.0.0.1",
      "not a url",
    ]
  ) assert.notEqual(policy.refusal(bad), undefined, bad);
  assert.equal(
    new InternalUrlPolicy(["private"]).refusal("http://[::ffff:10.0.0.1]/"),
    undefined,
    "IPv4-mapped IPv6 counts as IPv4",
  );
});

Deno.test("internal URL policy - explicit entries replace the default", () => {
  const policy = new InternalUrlPolicy(["203.0.113.0/24", "*.gw.example"]);
  assert.equal(policy.refusal("http://203.0.113.7:1"), undefined);
  assert.equal(policy.refusal("http://a.gw.example:1"), undefined);
  assert.notEqual(policy.refusal("http://127.0.0.1:1"), undefined);
  assert.notEqual(policy.refusal("http://gateway1:1"), undefined);
  assert.equal(
    new InternalUrlPolicy(["*"]).refusal("http://8.8.8.8"),
    undefined,
  );
  assert.notEqual(
    new InternalUrlPolicy(["*"]).refusal("gopher://8.8.8.8"),
    undefined,
    "schemes are checked even with *",
  );
});

Deno.test("internal URL policy - a bad entry names WSGW_INTERNAL_NETWORKS", () => {
  for (const entry of ["10.0.0.0/33", "http://x", "1.2.3.4/a", "a b"]) {
    assert.throws(
      () =>
        loadConfig({ WSGW_INTERNAL_NETWORKS: `private,${entry}` }, "embedded"),
      (e) =>
        e instanceof ConfigError &&
        e.message.includes("WSGW_INTERNAL_NETWORKS"),
      entry,
    );
  }
  const { config } = loadConfig({}, "embedded");
  assert.deepEqual(config.internalNetworks, ["private"]);
  // The one policy every caller of an internal URL is handed.
  assert.equal(
    config.internalUrlPolicy.refusal("http://10.1.2.3:9"),
    undefined,
  );
  const narrow =
    loadConfig({ WSGW_INTERNAL_NETWORKS: "10.0.0.0/8" }, "embedded")
      .config.internalUrlPolicy;
  assert.equal(narrow.refusal("http://10.1.2.3:9"), undefined);
  assert.match(narrow.refusal("http://192.168.1.1")!, /outside the allowed/);
});
