/**
 * `deno task k8s:rules`: writes `deploy/k8s/base/prometheus-rule.yaml`, the
 * PrometheusRule holding the groups of `ops/prometheus/alerts.yml`, so
 * compose and Kubernetes alert alike. Run it after editing the alerts;
 * `tests/integration/ops_k8s.test.ts` fails until you do.
 *
 * @module
 */
import { parse, stringify } from "yaml";

const ROOT = new URL("../", import.meta.url);

/** The PrometheusRule text for the rules file's text. */
export function prometheusRule(alertsYaml: string): string {
  const { groups } = parse(alertsYaml) as { groups: unknown[] };
  const rule = {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: "wsgw" },
    spec: { groups },
  };
  return "# Generated from ops/prometheus/alerts.yml by `deno task k8s:rules`;\n" +
    '# edit the alerts there. Runbook: docs/OPERATIONS.md "Alerts".\n' +
    stringify(rule, { lineWidth: 0 });
}

if (import.meta.main) {
  const alerts = await Deno.readTextFile(
    new URL("ops/prometheus/alerts.yml", ROOT),
  );
  await Deno.writeTextFile(
    new URL("deploy/k8s/base/prometheus-rule.yaml", ROOT),
    prometheusRule(alerts),
  );
}
