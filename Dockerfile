# One image for every wsgw process; the command picks the entry point:
#   docker build -t wsgw .
#   docker run wsgw gateway/main.ts     a gateway node of a cluster
#   docker run wsgw router/main.ts      a router (push API)
#   docker run -p 8080:8080 wsgw demo/embedded_demo.ts
#                                       one process, memory backends, the demo
#                                       at / (trying it; `deno task start`)
#   docker run --rm wsgw ops/ctl.ts --help
# Configuration comes from the environment (README.md "Configuration").
# tests/integration/ops_image.test.ts stages exactly what this file copies
# and runs its install and type checks, without a Docker engine.
ARG DENO_VERSION=2.9.6
FROM denoland/deno:debian-${DENO_VERSION}

WORKDIR /app
# Numeric, so Kubernetes' runAsNonRoot can verify it: the base image's
# "deno" user, which owns the dependency cache (DENO_DIR).
RUN chown 1993:1993 /app
USER 1993:1993

# The image's import map and lock list runtime packages only (no test,
# bench or demo dependency); `deno task image:lock` derives the lock from
# the repository's deno.lock, so the versions are the tested ones.
COPY --chown=1993:1993 deploy/image/deno.json deploy/image/deno.lock ./
COPY --chown=1993:1993 shared/ shared/
COPY --chown=1993:1993 gateway/ gateway/
COPY --chown=1993:1993 router/ router/
# The browser client the gateways serve at /client.js (built, committed).
COPY --chown=1993:1993 client/dist/ client/dist/
# The demo: `deno task start` (demo/embedded_demo.ts) mounts it on the
# embedded process while the development secret is in use.
COPY --chown=1993:1993 demo/ demo/
# The operator CLI, for `docker compose exec router1 deno run -A ops/ctl.ts`
# (the state files of `deno task cluster` it reads: shared/cluster_state.ts).
COPY --chown=1993:1993 ops/ctl.ts ops/ctl.ts
COPY --chown=1993:1993 ops/ctl/ ops/ctl/
# Fetch every npm package the entry points import, as locked, and type-check
# them once so a broken build fails here and not at start.
RUN deno install --frozen --entrypoint gateway/main.ts router/main.ts gateway/embedded.ts demo/embedded_demo.ts demo/main.ts ops/ctl.ts \
 && deno check gateway/main.ts router/main.ts gateway/embedded.ts demo/embedded_demo.ts demo/main.ts ops/ctl.ts

ENV WSGW_HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

# Liveness of whichever process runs: /healthz on its public port.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
  CMD ["deno", "eval", "const r = await fetch(`http://127.0.0.1:${Deno.env.get('PORT') ?? 8080}/healthz`); Deno.exit(r.ok ? 0 : 1)"]

# The permissions of `deno task gateway|router|start` (network, environment,
# reading its own files); memory metrics come from Deno.memoryUsage(), which
# needs no more. --cached-only: nothing is fetched at run time.
ENTRYPOINT ["deno", "run", "--allow-net", "--allow-env", "--allow-read", "--cached-only", "--frozen"]
CMD ["gateway/main.ts"]
