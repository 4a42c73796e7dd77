/**
 * The etcd key layout (PROTOCOL.md "Registry layout in etcd"): keys are
 * spelled and parsed only by `shared/registry/keys.ts`.
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  decodeNodeValue,
  decodeUserDevices,
  encodeNodeValue,
  encodeUserValue,
  prefixEnd,
  RegistryKeys,
} from "../../shared/registry/keys.ts";
import { AWKWARD_USERS, nodeRecord } from "../_support/registry_contract.ts";

const keys = new RegistryKeys("/wsgw");

Deno.test("registry keys - spell the documented layout", () => {
  assert.equal(keys.node("n1"), "/wsgw/nodes/n1");
  assert.equal(keys.user("alice", "n1"), "/wsgw/users/alice/n1");
  assert.equal(keys.user("a/b c", "n1"), "/wsgw/users/a%2Fb%20c/n1");
  assert.equal(keys.userRoot("a/b"), "/wsgw/users/a%2Fb/");
  assert.equal(keys.root, "/wsgw/");
});

Deno.test("registry keys - every allowed user id round-trips", () => {
  for (const user of [...AWKWARD_USERS, "alice", "a".repeat(128)]) {
    const key = keys.user(user, "node-1.x_y");
    assert.ok(key.startsWith(keys.userRoot(user)));
    assert.deepEqual(keys.parse(key), {
      kind: "user",
      user,
      nodeId: "node-1.x_y",
    });
  }
  assert.deepEqual(keys.parse("/wsgw/nodes/n1"), {
    kind: "node",
    nodeId: "n1",
  });
});

Deno.test("registry keys - one user's root never covers another user", () => {
  // "a" vs "a/b" vs "a b": encoding keeps each user's keys under its own root.
  const roots = ["a", "a/b", "a b", "a%2Fb"].map((u) => keys.userRoot(u));
  for (const root of roots) {
    const others = roots.filter((r) => r !== root && r.startsWith(root));
    assert.deepEqual(others, [], root);
  }
});

Deno.test("registry keys - parse() ignores keys outside the layout", () => {
  for (
    const key of [
      "/wsgw/other/x",
      "/wsgw/nodes/",
      "/wsgw/nodes/a/b",
      "/wsgw/users/alice",
      "/wsgw/users/alice/",
      "/wsgw/users//n1",
      "/wsgw/users/%E0%A4%A/n1", // malformed escape
      "/wsgw/users/a/n1/extra",
      "/wsgwx/nodes/n1",
    ]
  ) assert.equal(keys.parse(key), undefined, key);
});

Deno.test("registry keys - node ids with / and bad prefixes are refused", () => {
  assert.throws(() => keys.node("a/b"), TypeError);
  assert.throws(() => keys.user("alice", ""), TypeError);
  assert.throws(() => new RegistryKeys("wsgw"), TypeError);
  assert.throws(() => new RegistryKeys("/wsgw/"), TypeError);
});

Deno.test("registry keys - node values carry the documented fields", () => {
  const record = { ...nodeRecord("n1"), draining: true };
  const json = encodeNodeValue(record);
  assert.deepEqual(Object.keys(JSON.parse(json)).sort(), [
    "draining",
    "internalUrl",
    "startedAt",
    "url",
  ]);
  assert.deepEqual(decodeNodeValue("n1", json), record);
  assert.equal(decodeNodeValue("n1", "not json"), undefined);
  assert.equal(decodeNodeValue("n1", '{"url":1}'), undefined);
  const devices = [{ connId: "c1", connectedAt: 4 }];
  assert.deepEqual(JSON.parse(encodeUserValue({ since: 5, devices })), {
    since: 5,
    devices,
  });
  assert.deepEqual(
    decodeUserDevices(encodeUserValue({ since: 5, devices })),
    devices,
  );
  assert.deepEqual(decodeUserDevices('{"since":5}'), []);
  assert.deepEqual(decodeUserDevices("not json"), []);
});

Deno.test("registry keys - prefixEnd() bounds exactly the prefix", () => {
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  assert.equal(decode(prefixEnd("/wsgw/")), "/wsgw0");
  assert.equal(decode(prefixEnd("/wsgw/users/a%2Fb/")), "/wsgw/users/a%2Fb0");
  assert.deepEqual(prefixEnd("a\xff"), new Uint8Array([0x61, 0xc3, 0xc0]));
});
