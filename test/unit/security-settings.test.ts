import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems } from '../support/config.js';

// The security settings of the environment, checked once at start (the process test is in test/e2e).
const rsa = (bits: number) =>
  generateKeyPairSync('rsa', { modulusLength: bits }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('ADMIN_TOKEN', () => {
  it('must be at least 32 characters, and unset turns the admin API off', () => {
    expect(configProblems({ ADMIN_TOKEN: 'x'.repeat(31) })).toEqual([
      expect.stringMatching(/^ADMIN_TOKEN must be at least 32 characters/),
    ]);
    expect(loadConfig({ ADMIN_TOKEN: 'x'.repeat(32) }).adminToken).toBe('x'.repeat(32));
    expect(loadConfig({}).adminToken).toBeUndefined();
  });
});

describe('OAUTH_SIGNING_KEY', () => {
  it('takes a PKCS#8 RSA PEM, also with its newlines written as \\n', () => {
    const pem = rsa(2048);
    expect(loadConfig({ OAUTH_SIGNING_KEY: pem }).oauthSigningKey).toBe(pem.trim());
    expect(loadConfig({ OAUTH_SIGNING_KEY: pem.trim().replaceAll('\n', '\\n') }).oauthSigningKey).toBe(pem.trim());
    expect(loadConfig({}).oauthSigningKey).toBeUndefined();
  });

  it.each([
    ['not a PEM', 'hello', /PKCS#8 PEM/],
    [
      'a PKCS#1 PEM',
      generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs1', format: 'pem' })
        .toString(),
      /PKCS#8 PEM/,
    ],
    ['a broken PEM', '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', /not a readable private key/],
    [
      'an EC key',
      generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      /must be an RSA key/,
    ],
    ['a 1024-bit key', rsa(1024), /at least 2048 bits/],
  ])('refuses %s, naming the setting', (_name, value, message) => {
    const problems = configProblems({ OAUTH_SIGNING_KEY: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^OAUTH_SIGNING_KEY /);
    expect(problems[0]).toMatch(message);
  });
});
