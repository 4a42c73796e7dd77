/**
 * The demo business service's routes, all under `/demo`: tokens for a chosen
 * user, cover uploads, job status, the processed images, and the user's
 * devices (presence through the push API, so the API key stays here).
 * Inputs are checked with zod; every error is `{"error": {"code", "message"}}`.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import {
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
} from "../shared/errors.ts";
import { jsonErrorHandler } from "../shared/json_errors.ts";
import type { Logger } from "../shared/log.ts";
import { userIdProblem } from "../shared/protocol.ts";
import { signToken, type TokenVerifier } from "../shared/token.ts";
import type { CoverJobs } from "./cover_jobs.ts";
import { FILTER_NAMES, FILTERS } from "./image/filters.ts";
import type { PushApiClient } from "./push_api_client.ts";
import { checkUpload, MAX_UPLOAD_BYTES } from "./upload.ts";

/** Seconds a demo token is valid; the page asks for a new one per connection. */
export const TOKEN_TTL = 3600;

/** What {@link createDemoApp} needs. */
export type DemoAppDeps = {
  /** Signs client tokens: the demo is the business backend. */
  jwtSecret: string;
  verifier: TokenVerifier;
  router: Pick<PushApiClient, "presence">;
  jobs: CoverJobs;
  /** The gateway `/ws` URL pages connect to; null: the page's own origin. */
  wsUrl: string | null;
  /** Milliseconds a cover job takes, shown by the page. */
  jobMs: number;
  log: Logger;
};

const Device = z.string().min(1).max(128).refine(
  (device) => userIdProblem(device) === undefined,
  "must have no control characters",
);
const TokenRequest = z.object({
  user: z.string().check((ctx) => {
    const problem = userIdProblem(ctx.value);
    if (problem) {
      ctx.issues.push({ code: "custom", message: problem, input: ctx.value });
    }
  }),
  device: Device.optional(),
});
const UploadForm = z.object({
  file: z.instanceof(File, { message: "must be a file" }),
  filter: z.enum(FILTER_NAMES),
});
const JobId = z.uuid();

/** Creates the `/demo/*` routes (mount at `/`). */
export function createDemoApp(deps: DemoAppDeps): Hono {
  const app = new Hono();
  const user = async (c: Context) => {
    const header = c.req.header("authorization") ?? "";
    const token = /^Bearer (\S+)$/i.exec(header)?.[1];
    if (!token) {
      throw new UnauthorizedError(
        "authorization: a Bearer token from POST /demo/token is required",
      );
    }
    return (await deps.verifier.verify(token)).user;
  };

  app.get("/demo/config", (c) =>
    c.json({
      ws: deps.wsUrl,
      filters: FILTER_NAMES.map((name) => ({
        name,
        label: FILTERS[name].label,
      })),
      maxUploadBytes: MAX_UPLOAD_BYTES,
      jobMs: deps.jobMs,
    }));

  app.post(
    "/demo/token",
    bodyLimit({ maxSize: 4096, onError: tooLarge }),
    async (c) => {
      const body = parse(
        TokenRequest,
        await c.req.json().catch(() => {
          throw new BadRequestError(
            "body: is not valid JSON",
            undefined,
            "invalid_json",
          );
        }),
      );
      const token = await signToken(deps.jwtSecret, {
        sub: body.user,
        device: body.device,
      }, `${TOKEN_TTL}s`);
      return c.json({
        token,
        user: body.user,
        device: body.device ?? null,
        expiresIn: TOKEN_TTL,
      });
    },
  );

  app.get(
    "/demo/devices",
    async (c) => c.json(await deps.router.presence(await user(c))),
  );

  app.post(
    "/demo/uploads",
    // Room for the multipart envelope around a file of the largest size.
    bodyLimit({ maxSize: MAX_UPLOAD_BYTES + 64 * 1024, onError: tooLarge }),
    async (c) => {
      const creator = await user(c);
      const form = await c.req.parseBody().catch((error) => {
        throw new BadRequestError(
          "body: must be multipart/form-data with a file and a filter",
          {
            cause: error,
          },
        );
      });
      const { file, filter } = parse(UploadForm, form);
      const upload = await checkUpload(file, filter);
      const job = deps.jobs.submit(creator, upload, new URL(c.req.url).origin);
      return c.json({ job }, 202);
    },
  );

  app.get("/demo/jobs/:id", async (c) => {
    const creator = await user(c);
    const job = deps.jobs.view(parse(JobId, c.req.param("id"), "id"), creator);
    if (!job) {
      throw new NotFoundError(
        "no such job (unknown, someone else's, or expired)",
      );
    }
    return c.json({ job });
  });

  for (const kind of ["originals", "results"] as const) {
    app.get(`/demo/${kind}/:id`, (c) => {
      const id = parse(JobId, c.req.param("id"), "id");
      const image = kind === "results"
        ? deps.jobs.result(id)
        : deps.jobs.original(id);
      if (!image) {
        throw new NotFoundError(
          "no such image (unknown, not done, or expired)",
        );
      }
      return c.body(image.bytes.slice().buffer, 200, {
        "content-type": image.type,
        // Ids are random and images never change.
        "cache-control": "private, max-age=86400, immutable",
        "x-content-type-options": "nosniff",
      });
    });
  }

  app.onError(demoErrorHandler(deps.log));
  return app;
}

/** JSON errors (shared/json_errors.ts); a failed backend or an unexpected throw is logged. */
export function demoErrorHandler(
  log: Logger,
): (error: Error, c: Context) => Response {
  return jsonErrorHandler((error, c, expected) =>
    expected
      ? log.warn("demo request failed", { path: c.req.path, error })
      : log.error("demo request failed", { path: c.req.path, error })
  );
}

function tooLarge(): never {
  throw new PayloadTooLargeError(
    `body: larger than the limit (files: ${MAX_UPLOAD_BYTES} bytes)`,
  );
}

/** Parses `value` with `schema` or throws a 400 naming the first bad field. */
function parse<T>(schema: z.ZodType<T>, value: unknown, what = "body"): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join(".") : what;
  throw new BadRequestError(`${path}: ${issue.message}`);
}
