import { createHash } from 'node:crypto';
import type { ApiClient, Attempt, Credentials } from './api-client.js';
import { messageOf } from './api-client.js';
import { CannotRun } from './cannot-run.js';
import { withRetries } from './retry.js';

const TOKEN_PATH = '/v3/oauth/token/generate';
/** A token is renewed this long before it expires, so no request goes out with one about to die. */
const RENEW_BEFORE_MS = 60_000;

type Env = Readonly<Record<string, string | undefined>>;

/**
 * The v2 API's credentials from the environment (SPEC §2a, §10): a till (`PP_USERNAME`,
 * `PP_PASSWORD`, the plain password) or an OAuth client (`PP_OAUTH_KEY`, `PP_OAUTH_SECRET`),
 * exactly one of the two.
 */
export function tillOrOAuthCredentials(env: Env): (client: ApiClient) => Credentials {
  const till = pair(env, 'PP_USERNAME', 'PP_PASSWORD');
  const oauth = pair(env, 'PP_OAUTH_KEY', 'PP_OAUTH_SECRET');
  if (till && oauth) {
    throw new CannotRun(
      'both till (PP_USERNAME / PP_PASSWORD) and OAuth (PP_OAUTH_KEY / PP_OAUTH_SECRET) credentials are set; unset one pair',
    );
  }
  if (till) {
    const credentials = tillCredentials(till[0], till[1]);
    return () => credentials;
  }
  if (oauth) return (client) => new OAuthCredentials(oauth[0], oauth[1], client);
  throw new CannotRun('no credentials: set PP_USERNAME and PP_PASSWORD (a till), or PP_OAUTH_KEY and PP_OAUTH_SECRET');
}

/** The admin API's bearer token (`ADMIN_TOKEN`). */
export function adminCredentials(env: Env): () => Credentials {
  const token = env.ADMIN_TOKEN;
  if (!token) throw new CannotRun("no admin token: set ADMIN_TOKEN to the service's ADMIN_TOKEN");
  return () => ({
    describe: 'ADMIN_TOKEN',
    headers: async () => ({ authorization: `Bearer ${token}` }),
    renew: async () => false,
  });
}

function pair(env: Env, first: string, second: string): [string, string] | undefined {
  const a = env[first];
  const b = env[second];
  if (!a && !b) return undefined;
  if (!a || !b) throw new CannotRun(`${a ? second : first} is not set: ${first} and ${second} go together`);
  return [a, b];
}

/** Basic `base64(username:md5hex(password))`: what a till sends (SPEC §10). */
function tillCredentials(username: string, password: string): Credentials {
  const secret = createHash('md5').update(password, 'utf8').digest('hex');
  const header = `Basic ${Buffer.from(`${username}:${secret}`, 'utf8').toString('base64')}`;
  return {
    describe: 'PP_USERNAME / PP_PASSWORD',
    headers: async () => ({ authorization: header }),
    renew: async () => false,
  };
}

/**
 * An OAuth access token, fetched before the first request, renewed a minute before it expires
 * and once after a 401 (a revoked or rotated signing key). One renewal at a time, shared by
 * every request waiting for it.
 */
class OAuthCredentials implements Credentials {
  readonly describe = 'PP_OAUTH_KEY / PP_OAUTH_SECRET';
  private token: Promise<{ value: string; renewAt: number }> | undefined;

  constructor(
    private readonly key: string,
    private readonly secret: string,
    private readonly client: ApiClient,
  ) {}

  async headers(): Promise<Record<string, string>> {
    let token = await (this.token ??= this.fetch());
    if (performance.now() >= token.renewAt) {
      this.token = this.fetch();
      token = await this.token;
    }
    return { 'x-cap-api-oauth-token': token.value };
  }

  async renew(): Promise<boolean> {
    this.token = this.fetch();
    await this.token;
    return true;
  }

  private async fetch(): Promise<{ value: string; renewAt: number }> {
    const { client } = this;
    const body = JSON.stringify({ key: this.key, secret: this.secret });
    const answer = await withRetries<Attempt>(async (timeoutMs) => {
      const attempt = await client.postAnonymous(TOKEN_PATH, body, timeoutMs);
      if ('failure' in attempt) return { done: false, value: attempt };
      const { status } = attempt.answer;
      return { done: !(status >= 500 || status === 409), value: attempt };
    });
    if ('failure' in answer) {
      throw new CannotRun(`no answer from ${client.baseUrl.origin}${TOKEN_PATH} within 30 s: ${answer.failure}`);
    }
    const { status, json } = answer.answer;
    const data = (json as { data?: { accessToken?: unknown; ttlSeconds?: unknown } } | undefined)?.data;
    if (status !== 200 || typeof data?.accessToken !== 'string' || typeof data.ttlSeconds !== 'number') {
      const said = messageOf(json) ?? `HTTP ${status}`;
      throw new CannotRun(`${client.baseUrl.origin} gave no OAuth token for ${this.describe}: ${said}`);
    }
    const lifetimeMs = data.ttlSeconds * 1000;
    return {
      value: data.accessToken,
      renewAt: performance.now() + Math.max(lifetimeMs / 2, lifetimeMs - RENEW_BEFORE_MS),
    };
  }
}
