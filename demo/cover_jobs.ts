/**
 * The asynchronous cover jobs: an upload becomes a job, the filter worker
 * processes it, the job takes a few seconds in all (as a real pipeline would),
 * and its result is pushed to every device of the creator through
 * `POST /v1/push`: a URL of the processed image and its metadata, never the
 * image itself. Jobs and images live in memory, bounded.
 *
 * @module
 */
import type { Logger } from "../shared/log.ts";
import { HttpError } from "../shared/errors.ts";
import type { CoverInput, ProcessedCover } from "./cover_processor.ts";
import type { FilterName } from "./image/filters.ts";
import { ImageError } from "./image/image.ts";
import type { PushApiClient } from "./push_api_client.ts";
import type { CheckedUpload } from "./upload.ts";

/** A job as the page sees it (`GET /demo/jobs/:id`). */
export type JobView = {
  id: string;
  status: "processing" | "done" | "failed";
  name: string;
  filter: FilterName;
  format: "png" | "jpeg";
  width: number;
  height: number;
  createdAt: number;
  finishedAt?: number;
  original: string;
  result?: string;
  error?: string;
  /** The push answer for the creator: the message's seq and how many devices got it. */
  /** seq is null when the push was delivered live but history was down. */
  push?: { seq: number | null; devices: number };
};

/** The `data` of the push a finished job sends. */
export type CoverPush =
  & { job: string; name: string; filter: FilterName }
  & (
    | {
      type: "cover.ready";
      result: string;
      original: string;
      format: "png" | "jpeg";
      width: number;
      height: number;
      bytes: number;
      ms: number;
    }
    | { type: "cover.failed"; error: string }
  );

type Job = {
  view: JobView;
  user: string;
  input: CoverInput;
  originalType: string;
  cover?: ProcessedCover;
};

/** Options of {@link CoverJobs}. */
export type CoverJobsOptions = {
  router: Pick<PushApiClient, "push">;
  filters: { run(input: CoverInput): Promise<ProcessedCover> };
  log: Logger;
  /** Milliseconds a job takes at least, from upload to push. @default 3000 */
  jobMs?: number;
  /** Jobs processing at once, over all users; more get 429. @default 16 */
  maxPending?: number;
  /** Jobs processing at once for one user. @default 3 */
  maxPendingPerUser?: number;
  /** Finished jobs kept (with their images); the oldest go first. @default 100 */
  maxKept?: number;
  /** Image bytes kept in all. @default 128 MiB */
  maxBytes?: number;
};

/** Attempts at the push of one job (same push id: delivered once). */
const PUSH_ATTEMPTS = 4;

/** Runs cover jobs and keeps their results for a while. */
export class CoverJobs implements AsyncDisposable {
  readonly #options: Required<CoverJobsOptions>;
  readonly #jobs = new Map<string, Job>();
  readonly #running = new Set<Promise<void>>();
  readonly #stop = new AbortController();
  #bytes = 0;

  constructor(options: CoverJobsOptions) {
    this.#options = {
      jobMs: 3000,
      maxPending: 16,
      maxPendingPerUser: 3,
      maxKept: 100,
      maxBytes: 128 * 1024 * 1024,
      ...options,
    };
  }

  /**
   * Starts a job for `user`; `baseUrl` is where browsers reach this service
   * (the result URLs are built on it).
   *
   * @throws {HttpError} `too_many_jobs` (429) past the pending limits.
   */
  submit(user: string, upload: CheckedUpload, baseUrl: string): JobView {
    const pending = [...this.#jobs.values()].filter((j) =>
      j.view.status === "processing"
    );
    if (
      pending.length >= this.#options.maxPending ||
      pending.filter((j) => j.user === user).length >=
        this.#options.maxPendingPerUser
    ) {
      throw new HttpError(
        "too_many_jobs",
        429,
        "too many covers are being processed: try again in a few seconds",
      );
    }
    const id = crypto.randomUUID();
    const { name, ...input } = upload;
    const job: Job = {
      user,
      input,
      originalType: upload.format === "png" ? "image/png" : "image/jpeg",
      view: {
        id,
        status: "processing",
        name,
        filter: upload.filter,
        format: upload.format,
        width: upload.width,
        height: upload.height,
        createdAt: Date.now(),
        original: `${baseUrl}/demo/originals/${id}`,
      },
    };
    this.#jobs.set(id, job);
    this.#bytes += input.bytes.length;
    const run = this.#run(job, baseUrl).finally(() =>
      this.#running.delete(run)
    );
    this.#running.add(run);
    this.#evict();
    return { ...job.view };
  }

  /** The job `id` of `user`, or undefined (unknown, evicted, or someone else's). */
  view(id: string, user: string): JobView | undefined {
    const job = this.#jobs.get(id);
    return job && job.user === user ? { ...job.view } : undefined;
  }

  /** The original upload of job `id`. */
  original(id: string): { bytes: Uint8Array; type: string } | undefined {
    const job = this.#jobs.get(id);
    return job && { bytes: job.input.bytes, type: job.originalType };
  }

  /** The processed image of job `id`, once done. */
  result(id: string): { bytes: Uint8Array; type: string } | undefined {
    const cover = this.#jobs.get(id)?.cover;
    return cover && { bytes: cover.bytes, type: cover.type };
  }

  /** Resolves when no job is running. */
  async idle(): Promise<void> {
    while (this.#running.size > 0) await Promise.all(this.#running);
  }

  /** Abandons running jobs (nothing more is pushed) and waits for them. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.#stop.abort();
    await this.idle();
  }

  async #run(job: Job, baseUrl: string): Promise<void> {
    const { view } = job;
    const started = performance.now();
    let data: CoverPush;
    try {
      const cover = await this.#options.filters.run(job.input);
      // The filter takes well under a second; a real pipeline (transcode,
      // moderation, CDN upload) takes longer, which is the point of pushing.
      await delay(
        this.#options.jobMs - (performance.now() - started),
        this.#stop.signal,
      );
      job.cover = cover;
      this.#bytes += cover.bytes.length;
      Object.assign(view, {
        status: "done",
        result: `${baseUrl}/demo/results/${view.id}`,
      });
      data = {
        type: "cover.ready",
        job: view.id,
        name: view.name,
        filter: view.filter,
        result: view.result!,
        original: view.original,
        format: cover.type === "image/png" ? "png" : "jpeg",
        width: cover.width,
        height: cover.height,
        bytes: cover.bytes.length,
        ms: Math.round(performance.now() - started),
      };
    } catch (error) {
      if (this.#stop.signal.aborted) return;
      const shown = error instanceof ImageError
        ? error.message
        : "the filter failed";
      if (!(error instanceof ImageError)) {
        this.#options.log.error("cover job failed", { job: view.id, error });
      }
      Object.assign(view, { status: "failed", error: shown });
      data = {
        type: "cover.failed",
        job: view.id,
        name: view.name,
        filter: view.filter,
        error: shown,
      };
    }
    view.finishedAt = Date.now();
    this.#evict();
    await this.#push(job, data);
  }

  /** Pushes the outcome, retrying with the same push id (delivered once). */
  async #push(job: Job, data: CoverPush): Promise<void> {
    for (let attempt = 1; attempt <= PUSH_ATTEMPTS; attempt++) {
      try {
        const answer = await this.#options.router.push(
          job.user,
          `cover-${job.view.id}`,
          data,
        );
        const result = answer.results[0];
        if (result) {
          job.view.push = { seq: result.seq, devices: result.devices };
        }
        this.#options.log.info("cover pushed", {
          job: job.view.id,
          type: data.type,
          seq: result?.seq,
          devices: result?.devices,
        });
        return;
      } catch (error) {
        if (attempt === PUSH_ATTEMPTS || this.#stop.signal.aborted) {
          this.#options.log.warn("cover push failed", {
            job: job.view.id,
            attempt,
            error,
          });
          return;
        }
        await delay(250 * 2 ** attempt, this.#stop.signal).catch(() => {});
      }
    }
  }

  /** Drops the oldest finished jobs past the count or byte budget. */
  #evict(): void {
    const { maxKept, maxBytes } = this.#options;
    for (const [id, job] of this.#jobs) {
      if (this.#jobs.size <= maxKept && this.#bytes <= maxBytes) return;
      if (job.view.status === "processing") continue;
      this.#jobs.delete(id);
      this.#bytes -= job.input.bytes.length + (job.cover?.bytes.length ?? 0);
    }
  }
}

/** Resolves after `ms` (at once when not positive); rejects when `signal` aborts. */
function delay(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
