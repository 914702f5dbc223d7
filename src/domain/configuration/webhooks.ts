import type { Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../../db/database.js';
import { findOrg } from '../../db/repositories/orgs.repository.js';
import {
  deleteWebhookSubscription,
  findWebhookSubscription,
  listWebhookSubscriptions,
  upsertWebhookSubscription,
} from '../../db/repositories/webhook-subscriptions.repository.js';
import type { Database } from '../../db/schema.js';
import type { Subscription } from '../../model/event.js';
import type { Clock } from '../clock.js';
import { generateWebhookSecret, isWebhookSecret, type SecretBox } from '../secrets.js';
import type { WebhookDeclaration } from './declarations.js';
import { failure, fieldPath, inTransaction, reject, type AdminResult } from './outcome.js';

/**
 * Webhook subscriptions (SPEC §9.3), from the config file and through the admin API. The secret
 * and the header values are sealed before they are stored; only the answer of a write shows them.
 */

/** A subscription as listed: header values masked, never the secret. */
export interface WebhookView {
  name: string;
  url: string;
  events: string[];
  active: boolean;
  headers: Record<string, string>;
}

/** What a write answers, the one time the secret and the header values (here unmasked) are shown. */
export interface SavedWebhook extends WebhookView {
  secret: string;
}

export type WebhookBody = Omit<WebhookDeclaration, 'name'>;

/** RFC 9110 §5.6.2 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Visible characters, spaces and tabs (RFC 9110 §5.5): no CR, LF or other control character. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Headers every delivery sets itself (SPEC §9.4). */
const FORMAT_HEADERS = new Set(['content-type', 'content-length', 'host']);
/** Hop-by-hop headers the HTTP client refuses to send (every attempt would fail). */
const CONNECTION_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect']);

/** The rules of a subscription a schema cannot say; every problem begins with its field's path. */
export function checkWebhook(webhook: WebhookBody, path: string): string[] {
  const at = (key: string) => fieldPath(path, key);
  const problems: string[] = [];
  if (!isHttpUrl(webhook.url)) problems.push(`${at('url')}: must be an absolute http or https URL`);
  if (webhook.events.includes('*') && webhook.events.length > 1) {
    problems.push(`${at('events')}: "*" stands alone: give ["*"] or a list of event names`);
  }
  if (webhook.secret !== undefined && !isWebhookSecret(webhook.secret)) {
    problems.push(
      `${at('secret')}: must be whsec_ followed by the base64 of 24 to 64 random bytes ` +
        '(for example whsec_ and the output of `openssl rand -base64 32`)',
    );
  }
  const seen = new Set<string>();
  for (const [name, value] of Object.entries(webhook.headers ?? {})) {
    const header = at(`headers.${name}`);
    const lower = name.toLowerCase();
    if (!HEADER_NAME.test(name)) {
      problems.push(`${header}: not a header name (letters, digits and !#$%&'*+-.^_\`|~, as RFC 9110 allows)`);
    } else if (FORMAT_HEADERS.has(lower) || lower.startsWith('webhook-')) {
      problems.push(`${header}: set by the service on every delivery; a subscription cannot send its own`);
    } else if (CONNECTION_HEADERS.has(lower)) {
      problems.push(`${header}: a hop-by-hop header, which the service's HTTP client manages itself`);
    } else if (seen.has(lower)) {
      problems.push(`${header}: given twice (header names are case-insensitive)`);
    }
    seen.add(lower);
    if (!HEADER_VALUE.test(value)) {
      problems.push(`${header}: the value must not contain CR, LF or other control characters`);
    }
  }
  return problems;
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Creates or replaces the org's subscription `webhook.name`. A left-out secret, active flag or
 * headers keep the stored ones (on create: a generated secret, active, no headers); what is kept
 * is re-sealed with this instance's key.
 */
export async function saveWebhook(
  trx: Transaction<Database>,
  secrets: SecretBox,
  orgId: number,
  webhook: WebhookDeclaration,
  now: Temporal.Instant,
): Promise<{ created: boolean; webhook: SavedWebhook }> {
  const stored = await findWebhookSubscription(trx, orgId, webhook.name);
  const secret = webhook.secret ?? (stored ? secrets.open(stored.secretSealed) : generateWebhookSecret());
  const headers =
    webhook.headers ?? (stored ? (JSON.parse(secrets.open(stored.headersSealed)) as Record<string, string>) : {});
  const saved = await upsertWebhookSubscription(
    trx,
    orgId,
    {
      name: webhook.name,
      url: webhook.url,
      events: webhook.events,
      active: webhook.active ?? stored?.active ?? true,
      secretSealed: secrets.seal(secret),
      headersSealed: secrets.seal(JSON.stringify(headers)),
      headerNames: Object.keys(headers),
      keyFingerprint: secrets.fingerprint,
    },
    now,
  );
  return { created: !stored, webhook: { ...webhookView(saved), headers, secret } };
}

export async function putWebhook(
  deps: { db: DB; clock: Clock; secrets: SecretBox },
  orgId: number,
  name: string,
  body: WebhookBody,
): Promise<AdminResult<{ created: boolean; webhook: SavedWebhook }>> {
  const problems = checkWebhook(body, '');
  if (problems.length > 0) return failure('invalid', ...problems);
  const now = deps.clock.now();
  return inTransaction(deps.db, async (trx) => {
    if (!(await findOrg(trx, orgId))) reject('not_found', `No org ${orgId}`);
    return saveWebhook(trx, deps.secrets, orgId, { ...body, name }, now);
  });
}

/** The org's subscriptions, or only `name`; undefined when the org (or that subscription in it) does not exist. */
export async function describeWebhooks(db: DB, orgId: number, name?: string): Promise<WebhookView[] | undefined> {
  if (!(await findOrg(db, orgId))) return undefined;
  const subscriptions = await listWebhookSubscriptions(db, orgId, name);
  return name !== undefined && subscriptions.length === 0 ? undefined : subscriptions.map(webhookView);
}

/** Deletes the subscription with its deliveries: its pending ones are never sent. */
export async function removeWebhook(db: DB, orgId: number, name: string): Promise<AdminResult<null>> {
  const deleted = await deleteWebhookSubscription(db, orgId, name);
  return deleted ? { ok: true, value: null } : failure('not_found', noSubscription(orgId, name));
}

export function noSubscription(orgId: number, name: string): string {
  return `No webhook subscription "${name}" in org ${orgId}`;
}

function webhookView(subscription: Subscription): WebhookView {
  const { name, url, events, active, headerNames } = subscription;
  return { name, url, events, active, headers: Object.fromEntries(headerNames.map((header) => [header, '***'])) };
}
