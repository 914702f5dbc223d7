import { errors, jwtVerify, SignJWT } from 'jose';
import type { Temporal } from 'temporal-polyfill';
import type { SigningKey } from './signing-key.js';

/**
 * OAuth access tokens: RS256 JWTs shaped like Capillary's (kid in the header; sub, client_id,
 * org_id, token_use, iat, exp), issued by this service. Times come from the injected clock.
 */
export const TOKEN_ISSUER = 'partner-programs';
export const MAX_TOKEN_TTL_SECONDS = 3600;

export interface AccessTokenClaims {
  clientKey: string;
  orgId: number;
  /** Seconds since the epoch. */
  issuedAt: number;
}

export async function issueAccessToken(
  key: SigningKey,
  client: { key: string; orgId: number; ttlSeconds: number },
  now: Temporal.Instant,
): Promise<string> {
  const issuedAt = Math.floor(now.epochMilliseconds / 1000);
  return new SignJWT({ client_id: client.key, org_id: client.orgId, token_use: 'access' })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .setIssuer(TOKEN_ISSUER)
    .setSubject(client.key)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + Math.min(client.ttlSeconds, MAX_TOKEN_TTL_SECONDS))
    .sign(key.privateKey);
}

export type TokenVerification = { ok: true; claims: AccessTokenClaims } | { ok: false; reason: 'expired' | 'invalid' };

/**
 * Verifies signature, algorithm, kid, issuer and expiry. The algorithm is pinned to RS256, so an
 * unsigned token (`alg: none`) or one HMAC-signed with the public key as secret never verifies.
 */
export async function verifyAccessToken(
  key: SigningKey,
  token: string,
  now: Temporal.Instant,
): Promise<TokenVerification> {
  try {
    const { payload } = await jwtVerify(
      token,
      (header) => {
        if (header.kid !== key.kid) throw new errors.JWKSNoMatchingKey();
        return key.publicKey;
      },
      {
        algorithms: ['RS256'],
        issuer: TOKEN_ISSUER,
        currentDate: new Date(now.epochMilliseconds),
        requiredClaims: ['sub', 'iat', 'exp', 'client_id', 'org_id', 'token_use'],
      },
    );
    const { sub, client_id: clientId, org_id: orgId, token_use: use, iat } = payload;
    const valid =
      typeof sub === 'string' &&
      clientId === sub &&
      use === 'access' &&
      typeof orgId === 'number' &&
      Number.isSafeInteger(orgId) &&
      typeof iat === 'number';
    return valid ? { ok: true, claims: { clientKey: sub, orgId, issuedAt: iat } } : { ok: false, reason: 'invalid' };
  } catch (error) {
    return { ok: false, reason: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}
