# One image for both wsgw processes; compose.yaml picks the entry point:
#   docker build -t wsgw .
#   docker run wsgw gateway/main.ts   |   docker run wsgw router/main.ts
# Configuration comes from the environment (README.md "Configuration").
ARG DENO_VERSION=2.9.6
FROM denoland/deno:debian-${DENO_VERSION}

WORKDIR /app
# The image's non-root user (uid 1993) owns the dependency cache (DENO_DIR).
RUN chown deno:deno /app
USER deno

# Dependencies first, so a code change does not refetch them. Only the files
# the lock resolves from: deno.json and deno.lock.
COPY --chown=deno:deno deno.json deno.lock ./
COPY --chown=deno:deno shared/ shared/
COPY --chown=deno:deno gateway/ gateway/
COPY --chown=deno:deno router/ router/
COPY --chown=deno:deno client/ client/
# The operator CLI, for `docker compose exec router1 deno run -A ops/ctl.ts`.
COPY --chown=deno:deno ops/ctl.ts ops/ctl.ts
COPY --chown=deno:deno ops/ctl/ ops/ctl/
# Fetch every npm package the entry points import, as locked, and type-check
# the servers once so a broken build fails here and not at start.
RUN deno install --frozen --entrypoint gateway/main.ts router/main.ts ops/ctl.ts \
 && deno check gateway/main.ts router/main.ts

ENV WSGW_HOST=0.0.0.0 \
    PORT=8080
EXPOSE 8080

# --allow-all: prom-client reads /proc/self (process_resident_memory_bytes,
# process_open_fds), which Deno 2.9 grants only with --allow-all; with
# narrower flags those metrics silently read 0. --cached-only: nothing is
# fetched at run time.
ENTRYPOINT ["deno", "run", "--allow-all", "--cached-only", "--frozen"]
CMD ["gateway/main.ts"]
