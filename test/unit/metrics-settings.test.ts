import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../support/config.js';

// METRICS_TOKEN and METRICS_PORT, checked once at start (the process test is test/e2e/metrics.test.ts).

describe('METRICS_TOKEN', () => {
  it('must be at least 16 characters, and unset leaves /metrics open', () => {
    expect(configProblems({ METRICS_TOKEN: 'x'.repeat(15) })).toEqual([
      'METRICS_TOKEN must be at least 16 characters (unset it to leave /metrics open)',
    ]);
    expect(loadConfig({ METRICS_TOKEN: 'x'.repeat(16) }).metricsToken).toBe('x'.repeat(16));
    expect(loadConfig({ METRICS_TOKEN: '  ' }).metricsToken).toBeUndefined();
    expect(loadConfig({}).metricsToken).toBeUndefined();
  });
});

describe('METRICS_PORT', () => {
  it('is unset by default: the API port serves /metrics, a worker none', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9464' }).metricsPort).toBe(9464);
  });

  it('must be a port from 1 to 65535', () => {
    for (const raw of ['0', '65536', 'http', '-1']) {
      expect(configProblems({ METRICS_PORT: raw })).toEqual([
        `METRICS_PORT must be an integer from 1 to 65535 (got "${raw}")`,
      ]);
    }
  });

  it('must differ from PORT where the API is served, the default PORT included', () => {
    expect(configProblems({ PORT: '9000', METRICS_PORT: '9000' })).toEqual([
      'METRICS_PORT must differ from PORT (both are 9000)',
    ]);
    expect(configProblems({ METRICS_PORT: '8080', ROLE: 'api' })).toEqual([
      'METRICS_PORT must differ from PORT (both are 8080)',
    ]);
    // A worker does not listen on PORT, so it may have METRICS_PORT there.
    expect(loadConfig({ PORT: '9000', METRICS_PORT: '9000', ROLE: 'worker' }).metricsPort).toBe(9000);
  });

  it('is reported with every other problem at once', () => {
    expect(configProblems({ METRICS_TOKEN: 'short', PORT: '9000', METRICS_PORT: '9000' })).toEqual([
      'METRICS_TOKEN must be at least 16 characters (unset it to leave /metrics open)',
      'METRICS_PORT must differ from PORT (both are 9000)',
    ]);
  });
});
