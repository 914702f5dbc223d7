import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * The webhooks bench's receiver: node:http with keep-alive, answering 204 as soon as a request
 * has arrived whole, so that what is timed is the sender. Per path (one per subscription) it
 * counts requests and distinct `webhook-id`s, keeps the first and last arrival, optionally every
 * arrival with what the latency needs from the body, and a random sample of whole requests whose
 * signatures are checked afterwards with the `standardwebhooks` library (`verifySample`), so the
 * check costs nothing while the sender is being timed.
 */

/** Real time in ms since the epoch, sub-millisecond: the bench process's own clock for every timing. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

/** One request as the latency figures need it. */
export interface Arrival {
  /** epochMs() when the request had arrived whole. */
  arrivedAtMs: number;
  webhookId: string;
  /** The event's `createdAt` (ms since the epoch), from the body. */
  createdAtMs: number;
  partnerProgramName: string;
  membershipNumber: string;
}

interface SampledRequest {
  body: string;
  headers: Record<string, string>;
}

interface PathState {
  requests: number;
  ids: Set<string>;
  firstAtMs: number | undefined;
  lastAtMs: number | undefined;
  /** Only for paths registered with `recordArrivals`. */
  arrivals: Arrival[] | undefined;
  sample: SampledRequest[];
  /** Requests offered to the sample so far (reservoir sampling). */
  offered: number;
  /** Bodies that were not an event the bench could read. */
  unreadable: number;
}

export interface PathCounts {
  requests: number;
  distinct: number;
  firstAtMs: number | undefined;
  lastAtMs: number | undefined;
  unreadable: number;
}

export interface SignatureCheck {
  checked: number;
  valid: number;
  firstError: string | undefined;
}

const SAMPLE_SIZE = 200;
const KEEP_ALIVE_MS = 60_000;

export class WebhookReceiver {
  private readonly paths = new Map<string, PathState>();
  private readonly sockets = new Set<Socket>();
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<WebhookReceiver> {
    const server = createServer({ keepAlive: true, keepAliveTimeout: KEEP_ALIVE_MS });
    // The sender keeps its connections; never close an idle one under it between phases.
    server.keepAliveTimeout = KEEP_ALIVE_MS;
    server.headersTimeout = KEEP_ALIVE_MS + 1_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}`);
    server.on('request', (request, response) => receiver.handle(request, response));
    server.on('connection', (socket) => {
      receiver.sockets.add(socket);
      socket.once('close', () => receiver.sockets.delete(socket));
    });
    return receiver;
  }

  /** Registers `path` (counting from zero) and returns its URL; `recordArrivals` keeps every arrival. */
  url(path: string, options: { recordArrivals?: boolean } = {}): string {
    this.paths.set(path, {
      requests: 0,
      ids: new Set(),
      firstAtMs: undefined,
      lastAtMs: undefined,
      arrivals: options.recordArrivals ? [] : undefined,
      sample: [],
      offered: 0,
      unreadable: 0,
    });
    return this.origin + path;
  }

  counts(path: string): PathCounts {
    const state = this.state(path);
    return {
      requests: state.requests,
      distinct: state.ids.size,
      firstAtMs: state.firstAtMs,
      lastAtMs: state.lastAtMs,
      unreadable: state.unreadable,
    };
  }

  arrivals(path: string): readonly Arrival[] {
    return this.state(path).arrivals ?? [];
  }

  /** Resolves true once `path` has seen `distinct` different webhook-ids, false after `timeoutMs`. */
  waitForDistinct(path: string, distinct: number, timeoutMs: number): Promise<boolean> {
    const state = this.state(path);
    return new Promise((resolve) => {
      const check = () => {
        if (state.ids.size < distinct) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (reached: boolean) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(reached);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Checks the sampled requests of `path` with the Standard Webhooks library and `secret`. */
  verifySample(path: string, secret: string): SignatureCheck {
    const webhook = new Webhook(secret);
    const result: SignatureCheck = { checked: 0, valid: 0, firstError: undefined };
    for (const { body, headers } of this.state(path).sample) {
      result.checked += 1;
      try {
        webhook.verify(body, headers);
        result.valid += 1;
      } catch (error) {
        result.firstError ??= error instanceof Error ? error.message : String(error);
      }
    }
    return result;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  private state(path: string): PathState {
    const state = this.paths.get(path);
    if (!state) throw new Error(`receiver path ${path} was not registered`);
    return state;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const arrivedAtMs = epochMs();
      // Answered first: the sender's attempt ends here, whatever the bookkeeping below costs.
      response.writeHead(request.method === 'POST' ? 204 : 405).end();
      const state = this.paths.get((request.url ?? '').split('?')[0]!);
      if (!state || request.method !== 'POST') return;
      this.record(state, request, Buffer.concat(chunks).toString('utf8'), arrivedAtMs);
    });
  }

  private record(state: PathState, request: IncomingMessage, body: string, arrivedAtMs: number): void {
    state.requests += 1;
    state.firstAtMs ??= arrivedAtMs;
    state.lastAtMs = arrivedAtMs;
    const webhookId = header(request, 'webhook-id') ?? '';
    state.ids.add(webhookId);
    // Reservoir sampling: every request has the same chance to be among those verified.
    state.offered += 1;
    const slot = state.offered <= SAMPLE_SIZE ? state.offered - 1 : Math.floor(Math.random() * state.offered);
    if (slot < SAMPLE_SIZE) {
      state.sample[slot] = {
        body,
        headers: {
          'webhook-id': webhookId,
          'webhook-timestamp': header(request, 'webhook-timestamp') ?? '',
          'webhook-signature': header(request, 'webhook-signature') ?? '',
        },
      };
    }
    if (state.arrivals) {
      const arrival = readArrival(body, webhookId, arrivedAtMs);
      if (arrival) state.arrivals.push(arrival);
      else state.unreadable += 1;
    }
    for (const check of [...this.waiters]) check();
  }
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readArrival(body: string, webhookId: string, arrivedAtMs: number): Arrival | undefined {
  try {
    const event = JSON.parse(body) as {
      createdAt?: unknown;
      data?: { partnerProgramName?: unknown; customerPartnerProgramDetails?: { membershipNumber?: unknown } };
    };
    const createdAtMs = typeof event.createdAt === 'string' ? Date.parse(event.createdAt) : NaN;
    const partnerProgramName = event.data?.partnerProgramName;
    const membershipNumber = event.data?.customerPartnerProgramDetails?.membershipNumber;
    if (Number.isNaN(createdAtMs) || typeof partnerProgramName !== 'string' || typeof membershipNumber !== 'string')
      return undefined;
    return { arrivedAtMs, webhookId, createdAtMs, partnerProgramName, membershipNumber };
  } catch {
    return undefined;
  }
}
