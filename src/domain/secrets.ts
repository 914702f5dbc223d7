import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Seals what the service must be able to read back but a database dump must not hand out: the
 * webhook signing secrets and custom headers (SPEC §9.3). AES-256-GCM under a key derived from
 * SECRETS_KEY, or from a key file made once beside the data (docs/security.md).
 */
export class SecretBox {
  /** Names the key without revealing it: stored beside every sealed value, compared at start. */
  readonly fingerprint: string;

  constructor(private readonly key: Buffer) {
    this.fingerprint = createHmac('sha256', key).update('partner-programs secrets key').digest('hex').slice(0, 16);
  }

  static fromSecret(secret: string): SecretBox {
    const key = Buffer.from(hkdfSync('sha256', secret, 'partner-programs', 'webhook secrets', 32));
    return new SecretBox(key);
  }

  /** `v1.<iv>.<tag>.<ciphertext>`, each base64url. */
  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv, cipher.getAuthTag(), ciphertext]
      .map((p) => (typeof p === 'string' ? p : p.toString('base64url')))
      .join('.');
  }

  /** The plaintext; throws SecretKeyMismatchError when another key sealed it (or it was altered). */
  open(sealed: string): string {
    const [version, iv, tag, ciphertext] = sealed.split('.');
    if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
      throw new SecretKeyMismatchError();
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyMismatchError();
    }
  }
}

export class SecretKeyMismatchError extends Error {
  constructor() {
    super('the value was sealed with another secrets key (give every instance the same SECRETS_KEY)');
    this.name = 'SecretKeyMismatchError';
  }
}

export const MIN_SECRETS_KEY_LENGTH = 32;

/**
 * The configured SECRETS_KEY, else the key file (made with 32 random bytes, mode 0600, when it
 * does not exist yet).
 */
export function loadSecretBox({
  secretsKey,
  secretsKeyFile,
}: {
  secretsKey?: string;
  secretsKeyFile: string;
}): SecretBox {
  if (secretsKey !== undefined) return SecretBox.fromSecret(secretsKey);
  let secret: string;
  try {
    secret = readFileSync(secretsKeyFile, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    mkdirSync(dirname(secretsKeyFile), { recursive: true });
    secret = randomBytes(32).toString('base64url');
    try {
      writeFileSync(secretsKeyFile, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    } catch (raced) {
      // Another process made it first: use theirs.
      if ((raced as NodeJS.ErrnoException).code !== 'EEXIST') throw raced;
      secret = readFileSync(secretsKeyFile, 'utf8').trim();
    }
    chmodSync(secretsKeyFile, 0o600);
  }
  return SecretBox.fromSecret(secret);
}

/** A new subscription's signing secret: `whsec_` and the base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

/** Whether `secret` is `whsec_` + base64 of 24 to 64 bytes (SPEC §9.3). */
export function isWebhookSecret(secret: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(secret);
  if (!match || match[1]!.length % 4 !== 0) return false;
  const bytes = Buffer.from(match[1]!, 'base64');
  return bytes.length >= 24 && bytes.length <= 64 && bytes.toString('base64') === match[1];
}
