import type { Temporal } from 'temporal-polyfill';

export interface OrgSummary {
  id: number;
  name: string;
  timezone: string;
  configs: Record<string, unknown>;
}

export interface LoyaltyProgramSummary {
  id: number;
  name: string;
  oneSupplementaryProgramAtATime: boolean;
}

/** A till as shown: never its password. */
export interface TillSummary {
  username: string;
  accessGroups: string[];
}

/** An OAuth client as shown: never its secret. */
export interface OAuthClientSummary {
  key: string;
  accessGroups: string[];
  tokenTtlSeconds: number;
}

/** The org a credential belongs to, as the login path reads it alongside the credential. */
interface CredentialOrg {
  orgId: number;
  orgTimezone: string;
  orgConfigs: Record<string, unknown>;
  /** The configuration version read with the credential (see ProgramCatalog). */
  configurationVersion: number;
}

export interface TillCredential extends CredentialOrg {
  tillId: number;
  username: string;
  secretHash: string;
  accessGroups: string[];
}

export interface OAuthClientCredential extends CredentialOrg {
  clientId: number;
  key: string;
  secretHash: string;
  accessGroups: string[];
  tokenTtlSeconds: number;
  secretChangedAt: Temporal.Instant;
}

/** The token signing key as stored (used when OAUTH_SIGNING_KEY is not set). */
export interface StoredSigningKey {
  kid: string;
  privateKeyPem: string;
}
