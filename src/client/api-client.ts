import { Agent, request } from 'undici';
import { CannotRun } from './cannot-run.js';
import { retryAfterMs, withRetries, type Verdict } from './retry.js';
import { Semaphore } from './semaphore.js';

/** An HTTP answer, its body parsed as JSON when it is JSON (else undefined). */
export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: unknown;
}

/** How requests prove who sends them: a till (Basic), an OAuth token, or the admin token. */
export interface Credentials {
  /** Names the credentials in messages, such as `PP_USERNAME / PP_PASSWORD`. */
  readonly describe: string;
  headers(): Promise<Record<string, string>>;
  /** After a 401: true when renewed credentials (a fresh token) are worth one more try. */
  renew(): Promise<boolean>;
}

export interface Exchange<T> {
  method?: 'GET' | 'POST';
  path: string;
  body?: string;
  headers?: Record<string, string>;
  /** Statuses among 404 and 405 that `judge` decides on, instead of stopping the command. */
  passes?: number[];
  /** What an answer means: done, or worth a retry. 401, 403, 404 and 405 never reach it. */
  judge(answer: Answer): Verdict<T>;
  /** The value for a batch that got no answer (`reason` says why). */
  noAnswer(reason: string): T;
}

export type Attempt = { answer: Answer } | { failure: string };

/**
 * The HTTP side of the bulk commands: keep-alive connections to one service, at most
 * `concurrency` requests in flight, retries (retry.ts), and the rules that stop a command:
 * refused credentials, a URL that is not this API, a service that answers nothing.
 *
 * Until the first answer arrives only one request is in flight, so wrong credentials cost one
 * request, not `concurrency` of them (each would count towards the service's login throttle).
 */
export class ApiClient {
  private readonly agent: Agent;
  private readonly credentials: Credentials | undefined;
  private readonly inFlight = new Semaphore(1);
  private answered = false;
  private lastAnswerAt = performance.now();
  private unreachable: string | undefined;

  constructor(
    readonly baseUrl: URL,
    private readonly concurrency: number,
    credentials: ((client: ApiClient) => Credentials) | undefined,
  ) {
    this.credentials = credentials?.(this);
    this.agent = new Agent({ connections: concurrency, keepAliveTimeout: 10_000, connect: { timeout: 5_000 } });
  }

  /**
   * Set once a batch has spent its retries while the service answered no request at all:
   * batches not yet sent are not sent (their rows say so), and the command ends.
   */
  get gone(): string | undefined {
    return this.unreachable;
  }

  async exchange<T>(exchange: Exchange<T>): Promise<T> {
    let renewed = false;
    let lastFailure: string | undefined;
    const startedAt = performance.now();
    const value = await withRetries<T>(async (timeoutMs) => {
      if (this.unreachable) return { done: true, value: exchange.noAnswer(`not sent: ${this.unreachable}`) };
      for (;;) {
        const attempt = await this.attempt(exchange, timeoutMs);
        if ('failure' in attempt) {
          lastFailure = attempt.failure;
          return { done: false, value: exchange.noAnswer(attempt.failure) };
        }
        lastFailure = undefined;
        const { answer } = attempt;
        if (answer.status === 401 && !renewed && this.credentials && (await this.credentials.renew())) {
          renewed = true;
          continue;
        }
        if (!exchange.passes?.includes(answer.status)) this.refuseToGoOn(exchange.path, answer);
        this.openGate();
        const verdict = exchange.judge(answer);
        if (verdict.done) return verdict;
        const after = retryAfterMs(answer.headers['retry-after'], new Date().getTime());
        return after === undefined ? verdict : { ...verdict, afterMs: after };
      }
    });
    if (lastFailure !== undefined) this.noteSilence(lastFailure, startedAt);
    return value;
  }

  /** One POST without credentials and without the in-flight limit (the OAuth token request). */
  async postAnonymous(path: string, body: string, timeoutMs: number): Promise<Attempt> {
    return this.send('POST', path, body, {}, timeoutMs);
  }

  /** Ends every connection; a request still in flight (a command that stops early) is cut off. */
  close(): Promise<void> {
    return this.agent.destroy();
  }

  private async attempt<T>(exchange: Exchange<T>, timeoutMs: number): Promise<Attempt> {
    await this.inFlight.acquire();
    try {
      const headers = { ...(await this.credentials?.headers()), ...exchange.headers };
      return await this.send(exchange.method ?? 'POST', exchange.path, exchange.body, headers, timeoutMs);
    } finally {
      this.inFlight.release();
    }
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    headers: Record<string, string>,
    timeoutMs: number,
  ): Promise<Attempt> {
    try {
      const response = await request(new URL(path, this.baseUrl), {
        method,
        dispatcher: this.agent,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          accept: 'application/json',
          ...headers,
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await response.body.text();
      this.noteAnswer();
      return { answer: { status: response.statusCode, headers: response.headers, json: parseJson(text) } };
    } catch (error) {
      return { failure: describeFailure(error, timeoutMs) };
    }
  }

  private noteAnswer(): void {
    this.lastAnswerAt = performance.now();
  }

  /** The first accepted answer: the credentials and the URL are right, so `concurrency` requests may go. */
  private openGate(): void {
    if (this.answered) return;
    this.answered = true;
    this.inFlight.release(this.concurrency - 1);
  }

  /**
   * A batch spent its retries without an answer. Before any answer, the command cannot run. Later,
   * if nothing else was answered meanwhile either, the service is down: the rest is not sent.
   */
  private noteSilence(failure: string, since: number): void {
    if (!this.answered) throw new CannotRun(`no answer from ${this.baseUrl.origin} within 30 s: ${failure}`);
    if (this.lastAnswerAt < since) {
      const seconds = Math.round((performance.now() - since) / 1000);
      this.unreachable ??= `${this.baseUrl.origin} answered no request for ${seconds} s (${failure})`;
    }
  }

  /** Answers after which no batch can do better: the command stops with exit 2. */
  private refuseToGoOn(path: string, answer: Answer): void {
    const said = messageOf(answer.json);
    if (answer.status === 401) {
      throw new CannotRun(
        `${this.baseUrl.origin} refused the credentials of ${this.credentials?.describe ?? 'this command'}${said ? `: ${said}` : ''}`,
      );
    }
    if (answer.status === 403) {
      throw new CannotRun(
        `${this.credentials?.describe ?? 'these credentials'} may not call ${path}${said ? `: ${said}` : ''}`,
      );
    }
    if (answer.status === 404 || answer.status === 405) {
      throw new CannotRun(
        `${this.baseUrl.origin} has no ${path} (HTTP ${answer.status}${said ? `: ${said}` : ''}); check --url or PP_URL`,
      );
    }
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The first message of the error envelope `{errors:[{message}]}`, if the body is one. */
export function messageOf(json: unknown): string | undefined {
  const errors = (json as { errors?: Array<{ message?: unknown }> } | undefined)?.errors;
  const message = Array.isArray(errors) ? errors[0]?.message : undefined;
  return typeof message === 'string' ? message : undefined;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  const named = error as { name?: string; code?: string; cause?: { code?: string; message?: string } };
  if (named.name === 'TimeoutError' || named.name === 'AbortError') {
    return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  }
  const code = named.code ?? named.cause?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
