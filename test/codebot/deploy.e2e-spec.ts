import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ROOT } from './codebot-harness.js';

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

function configValue(configMap: string, key: string): number {
  const match = new RegExp(`^\\s+${key}:\\s*'?(\\d+)'?\\s*$`, 'm').exec(configMap);
  if (!match?.[1]) throw new Error(`${key} missing from the ConfigMap`);
  return Number(match[1]);
}

describe('deploy/ manifests agree with the app', () => {
  const deployment = read('deploy/k8s/deployment.yaml');
  const configMap = read('deploy/k8s/configmap.yaml');

  it('grace period covers preStop + SHUTDOWN_TIMEOUT_MS, and the drain fits in the deadline', () => {
    const grace = Number(/terminationGracePeriodSeconds:\s*(\d+)/.exec(deployment)?.[1]);
    const preStop = Number(/command:\s*\['sleep',\s*'(\d+)'\]/.exec(deployment)?.[1]);
    const timeoutMs = configValue(configMap, 'SHUTDOWN_TIMEOUT_MS');
    const drainMs = configValue(configMap, 'SHUTDOWN_DRAIN_DELAY_MS');
    expect(preStop).toBeGreaterThan(0);
    expect(grace).toBeGreaterThan(preStop + timeoutMs / 1000);
    expect(drainMs).toBeLessThan(timeoutMs);
    expect(configMap).toMatch(/^\s+APP_ENV: production$/m);
  });

  it('probes point at the endpoints the app serves, on the port it listens on', () => {
    expect(deployment).toMatch(
      /startupProbe:\s*\n\s*httpGet: \{ path: \/health\/startup, port: http \}/,
    );
    expect(deployment).toMatch(
      /livenessProbe:\s*\n\s*httpGet: \{ path: \/health\/live, port: http \}/,
    );
    expect(deployment).toMatch(
      /readinessProbe:\s*\n\s*httpGet: \{ path: \/health\/ready, port: http \}/,
    );
    expect(deployment).toContain(`containerPort: ${configValue(configMap, 'PORT')}`);
    expect(deployment).toContain(`containerPort: ${configValue(configMap, 'METRICS_PORT')}`);
    expect(deployment).toMatch(/runAsNonRoot: true/);
    // Secrets come from the Secret, never from the ConfigMap.
    for (const secret of [
      'MONGODB_URL',
      'REDIS_URL',
      'TELEGRAM_BOT_TOKEN',
      'GITHUB_TOKEN',
      'API_TOKEN_SECRET',
    ]) {
      expect(configMap).not.toMatch(new RegExp(`^\\s+${secret}:`, 'm'));
      expect(deployment).toMatch(
        new RegExp(`name: ${secret}\\s*\\n\\s*valueFrom:\\s*\\n?\\s*\\{ secretKeyRef`),
      );
    }
  });

  it('the image is multi-stage, runs as non-root and starts the built app', () => {
    const dockerfile = read('deploy/Dockerfile');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain('CMD ["node", "apps/codebot/dist/main.js"]');
    const compose = read('deploy/docker-compose.yml');
    for (const service of ['mongo:', 'redis:', 'app:']) expect(compose).toContain(`\n  ${service}`);
    // Required outside development: compose refuses to start without it rather than the app exiting.
    expect(compose).toMatch(/^\s+API_TOKEN_SECRET: \$\{API_TOKEN_SECRET:\?/m);
    expect(read('deploy/k8s/secret.example.yaml')).toMatch(/^\s+API_TOKEN_SECRET: /m);
    const grace = /stop_grace_period:\s*(\d+)s/.exec(compose)?.[1];
    const timeout = /SHUTDOWN_TIMEOUT_MS:\s*'(\d+)'/.exec(compose)?.[1];
    expect(Number(grace) * 1000).toBeGreaterThan(Number(timeout));
  });
});
