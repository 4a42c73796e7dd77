import assert from "node:assert/strict";
import { NodeRecordCodec } from "../../shared/registry/node_record_codec.ts";
import { createLogger } from "../../shared/log.ts";

const node = {
  nodeId: "gw-1",
  url: "http://127.0.0.1:8080",
  internalUrl: "http://127.0.0.1:9001",
  startedAt: 1700000000000,
  draining: false,
};

Deno.test("node record codec - signed records round-trip; tampered, unsigned, moved or foreign ones are refused with a warning", () => {
  const lines: string[] = [];
  const log = createLogger({ level: "debug", write: (l) => lines.push(l) });
  const codec = new NodeRecordCodec(["s".repeat(32)], log);
  const value = codec.encode(node);
  assert.ok(!value.includes("s".repeat(32)), "the secret is not stored");
  assert.deepEqual(codec.decode("gw-1", value), node);

  const parsed = JSON.parse(value);
  const cases: [string, string, string][] = [
    [
      "tampered",
      "gw-1",
      JSON.stringify({ ...parsed, internalUrl: "http://10.0.0.9:1" }),
    ],
    ["unsigned", "gw-1", JSON.stringify({ ...node, nodeId: undefined })],
    ["moved", "gw-2", value],
    ["foreign key", "gw-1", new NodeRecordCodec(["t".repeat(32)]).encode(node)],
    ["garbage sig", "gw-1", JSON.stringify({ ...parsed, sig: "x" })],
  ];
  for (const [name, nodeId, stored] of cases) {
    assert.equal(codec.decode(nodeId, stored), undefined, name);
  }
  const warnings = lines.filter((l) => l.includes("not authenticated"));
  assert.equal(warnings.length, cases.length);
  codec.decode("gw-1", cases[0]![2]);
  assert.equal(
    lines.filter((l) => l.includes("not authenticated")).length,
    cases.length,
    "one warning per rejected value",
  );
});

Deno.test("node record codec - during a rotation the other secret verifies, the first signs", () => {
  const old = new NodeRecordCodec(["o".repeat(32)]);
  const both = new NodeRecordCodec(["n".repeat(32), "o".repeat(32)]);
  assert.deepEqual(both.decode("gw-1", old.encode(node)), node);
  assert.equal(old.decode("gw-1", both.encode(node)), undefined);
  const plain = new NodeRecordCodec([]);
  assert.equal(plain.signing, false);
  assert.deepEqual(plain.decode("gw-1", old.encode(node)), node);
});
