import { createPrivateKey } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type CryptoKey,
} from 'jose';
import type { DB } from '../db/database.js';
import { insertSigningKeyIfAbsent, readSigningKey } from '../db/repositories/signing-keys.repository.js';
import type { Clock } from './clock.js';

/**
 * The RSA key that signs OAuth access tokens (RS256). Its `kid` is the RFC 7638 thumbprint of
 * the public key, so the same key always has the same kid on every instance.
 */
export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

const MIN_SIGNING_KEY_BITS = 2048;

/** Why `pem` cannot sign tokens, or undefined when it can. Synchronous: config.ts checks it at start. */
export function signingKeyProblem(pem: string): string | undefined {
  if (!/-----BEGIN PRIVATE KEY-----/.test(pem)) {
    return 'must be a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"); convert a PKCS#1 key with `openssl pkcs8 -topk8 -nocrypt -in key.pem`';
  }
  try {
    const key = createPrivateKey({ key: pem, format: 'pem' });
    if (key.asymmetricKeyType !== 'rsa')
      return `must be an RSA key (tokens are signed with RS256), not ${key.asymmetricKeyType}`;
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_SIGNING_KEY_BITS) return `must be an RSA key of at least ${MIN_SIGNING_KEY_BITS} bits (got ${bits})`;
    return undefined;
  } catch (error) {
    return `is not a readable private key: ${(error as Error).message}`;
  }
}

export async function signingKeyFromPem(pem: string): Promise<SigningKey> {
  const privateKey = await importPKCS8(pem, 'RS256', { extractable: true });
  const { n, e } = await exportJWK(privateKey);
  if (!n || !e) throw new Error('The signing key is not an RSA key');
  const publicJwk = { kty: 'RSA', n, e };
  return {
    kid: await calculateJwkThumbprint(publicJwk),
    privateKey,
    publicKey: (await importJWK(publicJwk, 'RS256')) as CryptoKey,
  };
}

/**
 * The configured key (OAUTH_SIGNING_KEY), else the one stored in the database. With neither,
 * one is generated and inserted if absent; whatever the database then holds is used, so
 * instances starting together agree and tokens outlive restarts.
 */
export async function loadSigningKey(db: DB, configuredPem: string | undefined, clock: Clock): Promise<SigningKey> {
  if (configuredPem !== undefined) return signingKeyFromPem(configuredPem);
  const stored = await readSigningKey(db);
  if (stored) return signingKeyFromPem(stored.privateKeyPem);
  const { privateKey } = await generateKeyPair('RS256', { modulusLength: MIN_SIGNING_KEY_BITS, extractable: true });
  const pem = await exportPKCS8(privateKey);
  const generated = await signingKeyFromPem(pem);
  await insertSigningKeyIfAbsent(db, { kid: generated.kid, privateKeyPem: pem }, clock.now());
  const winner = await readSigningKey(db);
  if (!winner) throw new Error('The generated signing key was not stored');
  return winner.kid === generated.kid ? generated : signingKeyFromPem(winner.privateKeyPem);
}
