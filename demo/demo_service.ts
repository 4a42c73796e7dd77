/**
 * The demo business service put together: the `/demo/*` routes, the cover
 * jobs and their filter worker, and a push-API client. `demo/main.ts` serves
 * it on its own port (with the page and `/client.js`); the embedded process
 * mounts the same routes while it runs with the development secrets.
 *
 * @module
 */
import type { Hono } from "hono";
import type { Logger } from "../shared/log.ts";
import { TokenVerifier } from "../shared/token.ts";
import { createDemoApp } from "./app.ts";
import { CoverJobs } from "./cover_jobs.ts";
import { FilterWorker } from "./filter_worker.ts";
import { PushApiClient } from "./push_api_client.ts";

/** Options of {@link createDemoService}. */
export type DemoServiceOptions = {
  /** HS256 secret of client tokens (the gateway's `WSGW_JWT_SECRET`). */
  jwtSecret: string;
  /** A push-API key. */
  apiKey: string;
  /** Base URL of the push API (a router, or the embedded process). */
  routerUrl: string;
  /** How the push API is reached. @default globalThis.fetch */
  routerFetch?: (request: Request) => Promise<Response>;
  /** The gateway `/ws` URL for pages; null: the page's own origin. @default null */
  wsUrl?: string | null;
  /** Milliseconds from upload to push. @default 3000 */
  jobMs?: number;
  log: Logger;
};

/** A demo service: its routes, and a dispose that stops its jobs and worker. */
export type DemoService = AsyncDisposable & { app: Hono; jobs: CoverJobs };

/** Creates the demo service's routes and job runner. */
export function createDemoService(options: DemoServiceOptions): DemoService {
  const log = options.log.with({ component: "demo" });
  const router = new PushApiClient({
    url: options.routerUrl,
    apiKey: options.apiKey,
    fetch: options.routerFetch,
  });
  const worker = new FilterWorker();
  const jobMs = options.jobMs ?? 3000;
  const jobs = new CoverJobs({ router, filters: worker, log, jobMs });
  const app = createDemoApp({
    jwtSecret: options.jwtSecret,
    verifier: new TokenVerifier(options.jwtSecret),
    router,
    jobs,
    wsUrl: options.wsUrl ?? null,
    jobMs,
    log,
  });
  return {
    app,
    jobs,
    async [Symbol.asyncDispose]() {
      // Abort first (nothing more is pushed), then stop the worker under it.
      const stopped = jobs[Symbol.asyncDispose]();
      worker[Symbol.dispose]();
      await stopped;
    },
  };
}
