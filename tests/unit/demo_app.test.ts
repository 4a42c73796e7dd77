/**
 * The demo service's routes in-process (`app.request()`), with a recording
 * push API: tokens, upload checks and their JSON errors, the job from upload
 * to push, retries with the same push id, limits, the filter worker.
 */
import assert from "node:assert/strict";
import { createDemoApp } from "../../demo/app.ts";
import { parseDemoArgs } from "../../demo/cli_args.ts";
import { CoverJobs } from "../../demo/cover_jobs.ts";
import { processCover } from "../../demo/cover_processor.ts";
import { FilterWorker } from "../../demo/filter_worker.ts";
import { decodeImage, encodeImage } from "../../demo/image/codec.ts";
import type { PushAnswer } from "../../demo/push_api_client.ts";
import { silentLogger } from "../../shared/log.ts";
import { TokenVerifier } from "../../shared/token.ts";

const SECRET = "demo-test-secret";

type Pushed = {
  user: string;
  id: string;
  data: { type: string; [k: string]: unknown };
};

/** A demo app whose push API records calls and fails the first `failures`. */
function setup(
  options: {
    failures?: number;
    filters?: ConstructorParameters<typeof CoverJobs>[0]["filters"];
  } = {},
) {
  const pushed: Pushed[] = [];
  let failures = options.failures ?? 0;
  const router = {
    push(user: string, id: string, data: unknown): Promise<PushAnswer> {
      if (failures-- > 0) return Promise.reject(new Error("router down"));
      pushed.push({ user, id, data: data as Pushed["data"] });
      return Promise.resolve({
        id,
        results: [{ user, seq: pushed.length, devices: 2 }],
      });
    },
    presence: (user: string) =>
      Promise.resolve({ user, online: false, devices: [] }),
  };
  const jobs = new CoverJobs({
    router,
    filters: options.filters ?? { run: processCover },
    log: silentLogger,
    jobMs: 0,
    maxPendingPerUser: 2,
  });
  const app = createDemoApp({
    jwtSecret: SECRET,
    verifier: new TokenVerifier(SECRET),
    router,
    jobs,
    wsUrl: null,
    jobMs: 0,
    log: silentLogger,
  });
  const token = async (user: string) => {
    const response = await app.request("/demo/token", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user, device: "test" }),
    });
    return (await response.json()).token as string;
  };
  const upload = async (
    auth: string | null,
    file: { bytes: Uint8Array; type: string; name?: string } | null,
    filter = "grayscale",
  ) => {
    const form = new FormData();
    if (file) {
      form.append(
        "file",
        new File([file.bytes as BlobPart], file.name ?? "c.png", {
          type: file.type,
        }),
      );
    }
    form.append("filter", filter);
    const headers: Record<string, string> = auth
      ? { authorization: `Bearer ${auth}` }
      : {};
    const response = await app.request("http://demo.test/demo/uploads", {
      method: "POST",
      headers,
      body: form,
    });
    return { status: response.status, body: await response.json() };
  };
  return { app, jobs, pushed, token, upload };
}

const LIMITS = { maxSide: 100, maxPixels: 1e4 };
const png = () =>
  encodeImage("png", {
    width: 8,
    height: 4,
    data: Uint8Array.from(
      { length: 128 },
      (_, i) => (i % 4 === 3 ? 255 : i * 9),
    ),
  });

Deno.test("demo token - signs a token the gateway accepts; bad bodies get JSON errors", async () => {
  const { app, token } = setup();
  const claims = await new TokenVerifier(SECRET).verify(
    await token("alice/😀"),
  );
  const { expiresAt, ...who } = claims;
  assert.deepEqual(who, { user: "alice/😀", device: "test" });
  assert.ok(expiresAt > Date.now(), "the token's exp, in ms");
  for (
    const [body, code] of [
      ["{", "invalid_json"],
      [JSON.stringify({ user: "" }), "bad_request"],
      [JSON.stringify({ user: "a\u0007b" }), "bad_request"],
      [JSON.stringify({ user: "a", device: "x".repeat(129) }), "bad_request"],
    ]
  ) {
    const response = await app.request("/demo/token", {
      method: "POST",
      body: body,
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error.code, code);
  }
});

Deno.test("demo upload - refusals: no token 401, not an image 415, wrong declared type 415, too big 413, bad filter 400, broken header 422", async () => {
  const { token, upload, pushed, jobs } = setup();
  const t = await token("alice");
  const image = await png();
  const cases: [Awaited<ReturnType<typeof upload>>, number, string][] = [
    [
      await upload(null, { bytes: image, type: "image/png" }),
      401,
      "unauthorized",
    ],
    [
      await upload("garbage", { bytes: image, type: "image/png" }),
      401,
      "token_invalid",
    ],
    [
      await upload(t, {
        bytes: new TextEncoder().encode("GIF89a…"),
        type: "image/gif",
      }),
      415,
      "unsupported_media_type",
    ],
    [
      await upload(t, { bytes: image, type: "image/jpeg" }),
      415,
      "unsupported_media_type",
    ],
    [
      await upload(t, {
        bytes: new Uint8Array(2 * 1024 * 1024 + 1),
        type: "image/png",
      }),
      413,
      "payload_too_large",
    ],
    [
      await upload(t, {
        bytes: new Uint8Array(3 * 1024 * 1024),
        type: "image/png",
      }),
      413,
      "payload_too_large",
    ],
    [
      await upload(t, { bytes: image, type: "image/png" }, "blur"),
      400,
      "bad_request",
    ],
    [await upload(t, null), 400, "bad_request"],
    [
      await upload(t, { bytes: image.slice(0, 20), type: "image/png" }),
      422,
      "invalid_image",
    ],
  ];
  for (const [answer, status, code] of cases) {
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, code);
    assert.equal(typeof answer.body.error.message, "string");
  }
  await jobs.idle();
  assert.deepEqual(pushed, []);
});

Deno.test("demo upload - the job pushes a URL of the filtered image to the creator, once", async () => {
  const { app, token, upload, pushed, jobs } = setup();
  const t = await token("alice");
  const answer = await upload(t, {
    bytes: await png(),
    type: "image/png",
    name: "../dir/cover\u0001.png",
  });
  assert.equal(answer.status, 202);
  const { job } = answer.body;
  assert.equal(job.status, "processing");
  assert.equal(job.name, "cover.png");
  await jobs.idle();
  assert.equal(pushed.length, 1);
  const [{ user, id, data }] = pushed as [Pushed];
  assert.deepEqual([user, id], ["alice", `cover-${job.id}`]);
  assert.equal(data.type, "cover.ready");
  assert.equal(data.result, `http://demo.test/demo/results/${job.id}`);
  assert.equal(data.format, "png");

  const result = await app.request(data.result as string);
  assert.equal(result.headers.get("content-type"), "image/png");
  const image = decodeImage(
    "png",
    new Uint8Array(await result.arrayBuffer()),
    LIMITS,
  );
  assert.deepEqual([image.width, image.height], [8, 4]);
  for (let i = 0; i < image.data.length; i += 4) {
    assert.equal(image.data[i], image.data[i + 2]);
  }
  const original = await app.request(`/demo/originals/${job.id}`);
  assert.deepEqual(new Uint8Array(await original.arrayBuffer()), await png());

  const auth = { headers: { authorization: `Bearer ${t}` } };
  const status = await (await app.request(`/demo/jobs/${job.id}`, auth)).json();
  assert.equal(status.job.status, "done");
  assert.deepEqual(status.job.push, { seq: 1, devices: 2 });
  // Another user's token does not see the job.
  const other = {
    headers: { authorization: `Bearer ${await token("mallory")}` },
  };
  assert.equal((await app.request(`/demo/jobs/${job.id}`, other)).status, 404);
  assert.equal((await app.request("/demo/jobs/not-a-uuid", auth)).status, 400);
  assert.equal(
    (await app.request(`/demo/results/${crypto.randomUUID()}`)).status,
    404,
  );
});

Deno.test("demo upload - a JPEG is filtered into a JPEG", async () => {
  const { app, token, upload, pushed, jobs } = setup();
  const jpeg = encodeImage("jpeg", {
    width: 40,
    height: 24,
    data: new Uint8Array(40 * 24 * 4).fill(255).map((v, i) =>
      i % 4 === 0 ? 30 : v
    ),
  });
  const answer = await upload(await token("alice"), {
    bytes: jpeg,
    type: "image/jpeg",
    name: "c.jpg",
  }, "invert");
  assert.equal(answer.status, 202);
  await jobs.idle();
  const data = pushed[0]!.data;
  assert.deepEqual([data.format, data.width, data.height], ["jpeg", 40, 24]);
  const result = await app.request(data.result as string);
  assert.equal(result.headers.get("content-type"), "image/jpeg");
  const image = decodeImage(
    "jpeg",
    new Uint8Array(await result.arrayBuffer()),
    LIMITS,
  );
  assert.deepEqual([image.width, image.height], [40, 24]);
  // (30, 255, 255) inverted is about (225, 0, 0).
  assert.ok(image.data[0]! > 200 && image.data[1]! < 30, `${image.data}`);
});

Deno.test("demo upload - a PNG broken past its header is pushed as cover.failed", async () => {
  const { token, upload, pushed, jobs } = setup();
  const broken = (await png()).slice();
  broken.fill(0, 40, 50); // inside IDAT: CRC mismatch
  const answer = await upload(await token("alice"), {
    bytes: broken,
    type: "image/png",
  });
  assert.equal(answer.status, 202);
  await jobs.idle();
  assert.equal(pushed[0]!.data.type, "cover.failed");
  assert.match(pushed[0]!.data.error as string, /^PNG is corrupt: /);
});

Deno.test("demo upload - a failed push is retried with the same push id", async () => {
  const { token, upload, pushed, jobs } = setup({ failures: 2 });
  const answer = await upload(await token("alice"), {
    bytes: await png(),
    type: "image/png",
  });
  await jobs.idle();
  assert.deepEqual(pushed.map((p) => p.id), [`cover-${answer.body.job.id}`]);
});

Deno.test("demo upload - past the pending jobs of a user: 429", async () => {
  const gate = Promise.withResolvers<void>();
  const { token, upload, jobs } = setup({
    filters: {
      run: async (input) => (await gate.promise, processCover(input)),
    },
  });
  const t = await token("alice");
  const file = { bytes: await png(), type: "image/png" };
  assert.equal((await upload(t, file)).status, 202);
  assert.equal((await upload(t, file)).status, 202);
  const third = await upload(t, file);
  assert.equal(third.status, 429);
  assert.equal(third.body.error.code, "too_many_jobs");
  // Another user has a budget of its own.
  assert.equal((await upload(await token("bob"), file)).status, 202);
  gate.resolve();
  await jobs.idle();
  assert.equal((await upload(t, file)).status, 202);
  await jobs.idle();
});

Deno.test("demo filter worker - filters off the main thread and stops on dispose", async () => {
  using worker = new FilterWorker();
  const cover = await worker.run({
    format: "png",
    bytes: await png(),
    filter: "invert",
    width: 8,
    height: 4,
  });
  assert.equal(cover.type, "image/png");
  const image = decodeImage("png", cover.bytes, LIMITS);
  assert.equal(image.data[0], 255); // the first pixel was black
  await assert.rejects(
    worker.run({
      format: "png",
      bytes: new Uint8Array(8),
      filter: "invert",
      width: 1,
      height: 1,
    }),
    /not a PNG/,
  );
});

Deno.test("demo args - flags, a state file, and errors naming what is missing", async () => {
  const env = { WSGW_API_KEYS: "k1,k2", WSGW_JWT_SECRET: "s" };
  assert.deepEqual(
    await parseDemoArgs([
      "--router",
      "http://r:1/",
      "--gateway",
      "http://g:2",
      "--port",
      "0",
    ], env),
    {
      routerUrl: "http://r:1",
      wsUrl: "ws://g:2/ws",
      apiKey: "k1",
      jwtSecret: "s",
      host: "127.0.0.1",
      port: 0,
      jobMs: 3000,
    },
  );
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        router: "http://127.0.0.1:7000",
        routers: ["http://127.0.0.1:7000"],
        gateways: [{ nodeId: "gw-1", url: "http://127.0.0.1:7001", pid: 1 }],
        etcd: "http://127.0.0.1:7002",
        redis: "redis://127.0.0.1:7003",
        lb: "http://127.0.0.1:7004",
        apiKey: "state-key",
        jwtSecret: "state-secret",
      }),
    );
    const fromState = await parseDemoArgs(["--state-file", file], {});
    assert.ok(fromState !== "help");
    assert.deepEqual(
      [
        fromState.routerUrl,
        fromState.wsUrl,
        fromState.apiKey,
        fromState.jwtSecret,
      ],
      [
        "http://127.0.0.1:7000",
        "ws://127.0.0.1:7004/ws",
        "state-key",
        "state-secret",
      ],
    );
    // The environment wins over the state file.
    assert.equal(
      (await parseDemoArgs(["--state-file", file], env) as { apiKey: string })
        .apiKey,
      "k1",
    );
  } finally {
    await Deno.remove(file);
  }
  await assert.rejects(
    parseDemoArgs(["--gateway", "http://g"], env),
    /--router/,
  );
  await assert.rejects(
    parseDemoArgs(["--router", "http://r", "--gateway", "http://g"], {}),
    /WSGW_API_KEYS/,
  );
  await assert.rejects(
    parseDemoArgs(["--router", "nope", "--gateway", "http://g"], env),
    /--router must be a URL/,
  );
  await assert.rejects(
    parseDemoArgs(["--state-file", "/nonexistent.json"], env),
    /--state-file: cannot read/,
  );
  assert.equal(await parseDemoArgs(["-h"], {}), "help");
});
