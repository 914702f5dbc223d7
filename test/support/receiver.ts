import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A webhook receiver in the test process (SPEC §9.4), as an integrator would run one: every
 * request is checked with the `standardwebhooks` library against the secret of its path, and
 * recorded. How it answers is set per path: a status, a delay, or no answer at all until
 * `release()` (or until the sender gives up and closes the connection).
 */

export interface ReceivedRequest {
  path: string;
  method: string;
  headers: Record<string, string>;
  rawBody: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  webhookId: string | undefined;
  /** Verified with the path's secret by the Standard Webhooks library. */
  verified: boolean;
  verificationError: string | undefined;
  /** Real time (ms since the epoch) when the request had arrived whole. */
  receivedAt: number;
  /** `performance.now()` when the request began / when it ended (answered or closed): for overlaps. */
  startedAtMs: number;
  endedAtMs: number | undefined;
  /** The status answered; undefined when the connection closed first. */
  answeredStatus: number | undefined;
}

export interface Answer {
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Never answer: the request stays open until `release()`, `close()`, or the sender hangs up. */
  hang?: boolean;
}

/** A fixed answer, or one chosen per request (`n` counts this path's requests from 1). */
export type AnswerRule = Answer | ((request: ReceivedRequest, n: number) => Answer);

/** A fresh `whsec_` secret of 32 random bytes, as SPEC §9.3 allows a subscription to bring. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export class Receiver {
  readonly received: ReceivedRequest[] = [];
  private readonly secrets = new Map<string, string>();
  private readonly rules = new Map<string, AnswerRule>();
  private readonly hanging = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private readonly changed = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const receiver = new Receiver(server, `http://127.0.0.1:${port}`);
    server.on('request', (request, response) => receiver.handle(request, response));
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.once('close', () => receiver.sockets.delete(socket));
    });
    return receiver;
  }

  /** The URL of `path`; requests to it are verified with `secret` (set it before subscribing). */
  url(path: string, secret?: string): string {
    if (secret !== undefined) this.secrets.set(path, secret);
    return this.origin + path;
  }

  /** Sets the secret `path` verifies with (e.g. the one a subscription was given). */
  useSecret(path: string, secret: string): void {
    this.secrets.set(path, secret);
  }

  /** How `path` answers from now on; default 200 at once. */
  answer(path: string, rule: AnswerRule): void {
    this.rules.set(path, rule);
  }

  requests(path?: string): ReceivedRequest[] {
    return path === undefined ? [...this.received] : this.received.filter((r) => r.path === path);
  }

  /** Requests whose signature did not verify: each one is a failure of the service. */
  failures(): ReceivedRequest[] {
    return this.received.filter((r) => !r.verified);
  }

  /** Throws with the reasons when any request failed verification. */
  assertAllVerified(): void {
    const failed = this.failures();
    if (failed.length > 0) {
      const reasons = failed.map((r) => `${r.path} ${r.webhookId ?? '(no webhook-id)'}: ${r.verificationError}`);
      throw new Error(`${failed.length} webhook request(s) failed verification:\n  ${reasons.join('\n  ')}`);
    }
  }

  /**
   * Resolves with the predicate's first truthy value, checked on every request and every
   * answer; throws after `timeoutMs`, or at once when a request fails verification.
   */
  async waitFor<T>(
    predicate: (received: ReceivedRequest[]) => T | undefined | null | false,
    timeoutMs = 5_000,
    what = 'a condition',
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        try {
          this.assertAllVerified();
          const value = predicate(this.received);
          if (value) {
            done();
            resolve(value);
          }
        } catch (error) {
          done();
          reject(error as Error);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new Error(
            `receiver: timed out after ${timeoutMs} ms waiting for ${what} (${this.received.length} requests so far)`,
          ),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.changed.delete(check);
      };
      this.changed.add(check);
      check();
    });
  }

  /** Waits until `path` has had `count` requests (all verified), and returns them. */
  async waitForCount(path: string, count: number, timeoutMs = 5_000): Promise<ReceivedRequest[]> {
    return this.waitFor(
      () => {
        const requests = this.requests(path);
        return requests.length >= count ? requests : undefined;
      },
      timeoutMs,
      `${count} request(s) to ${path}`,
    );
  }

  /** Answers every hanging request with `status`. */
  release(status = 200): void {
    for (const response of this.hanging) {
      response.statusCode = status;
      response.end();
    }
    this.hanging.clear();
  }

  /** Forgets what was received (answers and secrets stay). */
  reset(): void {
    this.received.length = 0;
  }

  async close(): Promise<void> {
    this.release(503);
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const startedAtMs = performance.now();
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = (request.url ?? '/').split('?')[0]!;
      const headers = flatHeaders(request);
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const record: ReceivedRequest = {
        path,
        method: request.method ?? '',
        headers,
        rawBody,
        body: parseJson(rawBody),
        webhookId: headers['webhook-id'],
        ...verify(this.secrets.get(path), rawBody, headers),
        receivedAt: Date.now(),
        startedAtMs,
        endedAtMs: undefined,
        answeredStatus: undefined,
      };
      this.received.push(record);
      const n = this.requests(path).length;
      response.once('close', () => {
        record.endedAtMs = performance.now();
        this.hanging.delete(response);
        this.notify();
      });
      const rule = this.rules.get(path) ?? {};
      const answer: Answer = record.verified ? (typeof rule === 'function' ? rule(record, n) : rule) : { status: 400 };
      this.notify();
      if (answer.hang) {
        this.hanging.add(response);
        return;
      }
      const send = () => {
        if (response.destroyed) return;
        record.answeredStatus = answer.status ?? 200;
        response.statusCode = record.answeredStatus;
        response.setHeader('content-type', 'text/plain');
        response.end('ok');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  }

  private notify(): void {
    for (const check of [...this.changed]) check();
  }
}

function flatHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function verify(
  secret: string | undefined,
  rawBody: string,
  headers: Record<string, string>,
): { verified: boolean; verificationError: string | undefined } {
  if (secret === undefined) return { verified: false, verificationError: 'no secret is known for this path' };
  try {
    new Webhook(secret).verify(rawBody, headers);
    return { verified: true, verificationError: undefined };
  } catch (error) {
    return { verified: false, verificationError: (error as Error).message };
  }
}

/** Per webhook-id, pairs of requests that were open at the same time (should be none). */
export function overlappingRequests(requests: readonly ReceivedRequest[]): Array<[ReceivedRequest, ReceivedRequest]> {
  const byId = new Map<string, ReceivedRequest[]>();
  for (const request of requests) {
    const id = request.webhookId ?? '';
    byId.set(id, [...(byId.get(id) ?? []), request]);
  }
  const overlaps: Array<[ReceivedRequest, ReceivedRequest]> = [];
  for (const group of byId.values()) {
    const sorted = [...group].sort((a, b) => a.startedAtMs - b.startedAtMs);
    let longest = sorted[0]!;
    for (const request of sorted.slice(1)) {
      if (request.startedAtMs < (longest.endedAtMs ?? Number.POSITIVE_INFINITY)) overlaps.push([longest, request]);
      if ((request.endedAtMs ?? Number.POSITIVE_INFINITY) > (longest.endedAtMs ?? Number.POSITIVE_INFINITY)) {
        longest = request;
      }
    }
  }
  return overlaps;
}

export interface SubscriptionBody {
  url: string;
  events: string[];
  secret?: string;
  active?: boolean;
  headers?: Record<string, string>;
}

/** `PUT /admin/v1/orgs/{orgId}/webhooks/{name}` on a service at `baseUrl` (a test server or a process). */
export async function putSubscription(
  baseUrl: string,
  adminToken: string,
  orgId: number,
  name: string,
  body: SubscriptionBody,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: any }> {
  const response = await fetch(`${baseUrl}/admin/v1/orgs/${orgId}/webhooks/${name}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}
