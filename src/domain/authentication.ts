import type { DB } from '../db/database.js';
import { findOAuthClient } from '../db/repositories/oauth-clients.repository.js';
import { findTillLogin, type FailureProbe } from '../db/repositories/tills.repository.js';
import type { Temporal } from 'temporal-polyfill';
import type { OAuthClientCredential } from '../model/org.js';
import { isStorableText } from '../model/text.js';
import type { Caller } from './caller.js';
import type { Clock } from './clock.js';
import { fingerprint, verifySecret } from './credentials.js';
import { loginSubject, type LoginThrottle } from './login-throttle.js';
import type { SigningKey } from './signing-key.js';
import { issueAccessToken, verifyAccessToken } from './tokens.js';

/**
 * Who a request comes from: till credentials (Basic), an OAuth access token, or, for the token
 * endpoint, an OAuth client's key and secret. Failures are data, told apart only as far as a
 * client needs (expired token) and never whether a username or key exists.
 */
export type AuthFailure =
  | { kind: 'unauthenticated'; message: string; scheme: 'Basic' | 'Bearer' }
  | { kind: 'throttled'; retryAfterSeconds: number };

export type AuthResult = { ok: true; caller: Caller } | { ok: false; failure: AuthFailure };
export type TokenGrant = { ok: true; accessToken: string; ttlSeconds: number } | { ok: false; failure: AuthFailure };

const BAD_TILL = 'Authentication failed: send valid till credentials or an OAuth token';
const PLAIN_PASSWORD =
  'Authentication failed: the password part of Basic credentials is md5hex(password), 32 hexadecimal digits, ' +
  'not the password itself (Authorization: Basic base64(username:md5hex(password)))';
/** What a till sends as its password: the md5 of the password, in hex. */
const MD5_HEX = /^[0-9a-f]{32}$/i;
const BAD_CLIENT = 'Authentication failed: unknown key or wrong secret';
const BAD_TOKEN = 'Authentication failed: the OAuth token is not valid';
const EXPIRED_TOKEN = 'Authentication failed: the OAuth token has expired; generate a new one';

/**
 * scrypt costs tens of milliseconds by design, too much to pay on every request. A successful
 * verification is remembered by a fingerprint of (name, stored hash, presented secret), so a
 * changed secret or a different presented one always goes through scrypt again.
 */
const VERIFIED_CACHE_LIMIT = 10_000;

export interface AuthenticatorDependencies {
  db: DB;
  clock: Clock;
  signingKey: SigningKey;
  throttle: LoginThrottle;
}

export class Authenticator {
  private readonly verified = new Set<string>();

  constructor(private readonly deps: AuthenticatorDependencies) {}

  async basic(username: string, secret: string): Promise<AuthResult> {
    const checked = await this.checkSecret('basic', username, secret, (name, probe) =>
      findTillLogin(this.deps.db, name, probe),
    );
    if (!checked.ok)
      return checked.failure
        ? { ok: false, failure: checked.failure }
        : unauthenticated(MD5_HEX.test(secret) ? BAD_TILL : PLAIN_PASSWORD, 'Basic');
    const till = checked.credential;
    return {
      ok: true,
      caller: {
        org: {
          id: till.orgId,
          timezone: till.orgTimezone,
          configs: till.orgConfigs,
          configurationVersion: till.configurationVersion,
        },
        accessGroups: till.accessGroups,
        credential: { kind: 'till', id: till.tillId, name: till.username },
      },
    };
  }

  async issueToken(key: string, secret: string): Promise<TokenGrant> {
    const checked = await this.checkSecret('oauth', key, secret, async (name, probe) => ({
      rankedFailure: await this.deps.throttle.readProbe(probe),
      credential: name === undefined ? undefined : await findOAuthClient(this.deps.db, name),
    }));
    if (!checked.ok)
      return checked.failure ? { ok: false, failure: checked.failure } : unauthenticated(BAD_CLIENT, 'Bearer');
    const client = checked.credential;
    const ttlSeconds = client.tokenTtlSeconds;
    const accessToken = await issueAccessToken(
      this.deps.signingKey,
      { key, orgId: client.orgId, ttlSeconds },
      this.deps.clock.now(),
    );
    return { ok: true, accessToken, ttlSeconds };
  }

  /**
   * The login path shared by tills and OAuth clients: refused while the name is throttled;
   * otherwise a failure (unknown name or wrong secret, told apart to no one) is counted.
   * `failure` is set only for throttling; the caller words an ordinary refusal itself.
   */
  private async checkSecret<C extends { secretHash: string }>(
    kind: 'basic' | 'oauth',
    name: string,
    secret: string,
    /** The credential of that name (undefined: none can match) and the throttle's probed failure, read together. */
    read: (
      name: string | undefined,
      probe: FailureProbe,
    ) => Promise<{ credential: C | undefined; rankedFailure: Temporal.Instant | undefined }>,
  ): Promise<{ ok: true; credential: C } | { ok: false; failure?: AuthFailure }> {
    const subject = loginSubject(kind, name);
    const probe = this.deps.throttle.probe(subject);
    // A name PostgreSQL text cannot hold matches nothing, and must not reach a query.
    const { credential, rankedFailure } = await read(isStorableText(name) ? name : undefined, probe);
    const retryAfterSeconds = this.deps.throttle.retryAfter(probe, rankedFailure);
    if (retryAfterSeconds !== undefined) return { ok: false, failure: { kind: 'throttled', retryAfterSeconds } };
    if (!credential || !(await this.verify(`${kind}\u0000${name}`, secret, credential.secretHash))) {
      await this.deps.throttle.recordFailure(subject);
      return { ok: false };
    }
    return { ok: true, credential };
  }

  /**
   * A token is good while its signature, issuer and expiry hold and its client still exists in
   * the org the token names, with no secret change since it was issued. Access groups are the
   * client's current ones.
   */
  async token(token: string): Promise<AuthResult> {
    const verification = await verifyAccessToken(this.deps.signingKey, token, this.deps.clock.now());
    if (!verification.ok)
      return unauthenticated(verification.reason === 'expired' ? EXPIRED_TOKEN : BAD_TOKEN, 'Bearer');
    const { clientKey, orgId, issuedAt } = verification.claims;
    const client = await findOAuthClient(this.deps.db, clientKey);
    if (!client || client.orgId !== orgId || issuedAt < revokedBefore(client))
      return unauthenticated(BAD_TOKEN, 'Bearer');
    return {
      ok: true,
      caller: {
        org: {
          id: client.orgId,
          timezone: client.orgTimezone,
          configs: client.orgConfigs,
          configurationVersion: client.configurationVersion,
        },
        accessGroups: client.accessGroups,
        credential: { kind: 'oauth', id: client.clientId, name: client.key },
      },
    };
  }

  private async verify(name: string, secret: string, storedHash: string): Promise<boolean> {
    const key = fingerprint(name, storedHash, secret);
    if (this.verified.has(key)) return true;
    if (!(await verifySecret(secret, storedHash))) return false;
    if (this.verified.size >= VERIFIED_CACHE_LIMIT) this.verified.clear();
    this.verified.add(key);
    return true;
  }
}

/** Token `iat` has whole seconds: a token issued in the second of a secret change still counts. */
function revokedBefore(client: OAuthClientCredential): number {
  return Math.floor(client.secretChangedAt.epochMilliseconds / 1000);
}

function unauthenticated(message: string, scheme: 'Basic' | 'Bearer'): { ok: false; failure: AuthFailure } {
  return { ok: false, failure: { kind: 'unauthenticated', message, scheme } };
}
