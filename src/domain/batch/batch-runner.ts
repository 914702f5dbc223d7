import type { Transaction } from 'kysely';
import type { Temporal } from 'temporal-polyfill';
import type { DB } from '../../db/database.js';
import { LockTimeoutError } from '../../db/errors.js';
import { lockCustomers } from '../../db/repositories/customers.repository.js';
import { findMembershipsOfCustomers, saveMembershipChanges } from '../../db/repositories/memberships.repository.js';
import { storeIdempotentAnswer } from '../../db/repositories/idempotency.repository.js';
import { findProgramsByIds } from '../../db/repositories/partner-programs.repository.js';
import type { ProgramCatalog } from '../program-catalog.js';
import type { Database } from '../../db/schema.js';
import type { NewEvent } from '../../model/event.js';
import type { IdempotencyClaim } from '../../model/idempotency.js';
import { identifierSetOf, type StoredCustomer } from '../../model/customer.js';
import { membershipKey, settle, type Activity, type Membership } from '../../model/membership.js';
import type { PartnerProgram } from '../../model/program.js';
import { isStorableText } from '../../model/text.js';
import type { Caller, OrgContext } from '../caller.js';
import type { Clock } from '../clock.js';
import { indexCustomers, resolveCustomer, type ParsedCustomer } from '../customers.js';
import type { CustomerFailure, EntryOutcome, WarningOutcome } from '../outcomes.js';
import { eventsOf, type ProgramFacts } from '../events.js';
import { noTelemetry, reportEvents, type Telemetry } from '../telemetry.js';
import { advanceMembership } from '../timeline.js';

export interface BatchDependencies {
  db: DB;
  clock: Clock;
  /** How long a batch waits for a customer another holds; unset: the connection's own lock_timeout applies. */
  lockTimeoutMs: number | undefined;
  /** The programs requests name, cached per configuration version. */
  programs: ProgramCatalog;
  /** Told of the events of each committed batch. */
  telemetry?: Telemetry;
}

/** One program entry of any batch endpoint, checked for shape only. */
export interface BatchEntry {
  /** The name as sent, echoed in the response ("" when it was not a string). */
  echoName: string;
  /** Lower-cased-before-lookup program name; "" when `failure` is set. */
  name: string;
  /** A shape failure that decides the entry before any rule runs. */
  failure?: EntryOutcome;
}

export interface BatchItem<E extends BatchEntry> {
  customer: ParsedCustomer;
  entries: E[];
}

/** A warning of a succeeded entry: what it means, and for which item and program name as sent. */
export interface Warning {
  outcome: WarningOutcome;
  customerIndex: number;
  programName: string;
}

/** What an entry's rules see and may change: the batch's working state, as of `now`. */
export interface EntryContext {
  now: Temporal.Instant;
  org: OrgContext;
  customer: StoredCustomer;
  customerIndex: number;
  program(name: string): PartnerProgram | undefined;
  membership(programId: number): Membership | undefined;
  /** Every membership of this customer, as it stands after the entries before this one. */
  memberships(): Membership[];
  save(membership: Membership, activities: Activity[]): void;
  warn(warning: Omit<Warning, 'customerIndex'>): void;
}

export type Decide<E extends BatchEntry> = (entry: E, context: EntryContext) => EntryOutcome;

/** Why nothing of a batch was written: every customer and entry has this outcome. */
export type RollbackOutcome = Extract<EntryOutcome, 'CUSTOMER_BUSY' | 'INTERNAL_ERROR'>;

/** What became of an item's customer part: the stored customer, or why there is none. */
export type CustomerResult =
  { outcome: 'FOUND'; customer: StoredCustomer } | { outcome: CustomerFailure | RollbackOutcome };

/**
 * The outcome of each item, in request order. An entry of a customer that was not found has the
 * customer's outcome (SPEC §3a).
 */
export interface BatchOutcome<E extends BatchEntry> {
  items: Array<{
    customer: CustomerResult;
    entries: Array<{ entry: E; outcome: EntryOutcome | CustomerFailure }>;
  }>;
  warnings: Warning[];
  /** Set when the service itself failed (every entry answered 2001); for the log. */
  fault?: unknown;
  /** Nothing was written (2001 or 2010 on every entry): the client should retry, so the answer is not final. */
  rolledBack?: RollbackOutcome;
  /** The answer of the request's Idempotency-Key was stored with the batch (see AnswerRecording). */
  answerStored?: boolean;
}

/**
 * A request's Idempotency-Key claim and how its answer reads. The answer is stored by the
 * batch's own transaction, so a committed batch always has the answer to replay: a process
 * killed between the commit and the answer would otherwise leave a retry to run the batch
 * again and answer "already linked" where the first attempt said success.
 */
export interface AnswerRecording<E extends BatchEntry> {
  claim: IdempotencyClaim;
  render(outcome: BatchOutcome<E>): { statusCode: number; body: string };
}

/**
 * Runs a batch of membership changes (link, update, delink) set-based: the named programs are
 * read once; in one transaction the batch's customers are locked and read in one statement,
 * their memberships in another, whatever fell due is brought up to now, every entry is decided
 * in memory in request order (a later entry sees what an earlier one did, SPEC §4), and all
 * changes are written in one statement. A fault leaves nothing half-written.
 */
export async function runMembershipBatch<E extends BatchEntry>(
  deps: BatchDependencies,
  caller: Caller,
  items: ReadonlyArray<BatchItem<E>>,
  decide: Decide<E>,
  recording?: AnswerRecording<E>,
): Promise<BatchOutcome<E>> {
  const names = new Set<string>();
  for (const item of items) {
    for (const e of item.entries) if (!e.failure && isStorableText(e.name)) names.add(e.name.toLowerCase());
  }
  const queries = items.flatMap((i) => (i.customer.ok && !i.customer.unmatchable ? [i.customer.query] : []));
  try {
    const programs = await deps.programs.named(caller.org, [...names]);
    const programsByName = new Map(programs.map((p) => [p.name.toLowerCase(), p]));
    const done = await deps.db.transaction().execute(async (trx) => {
      const now = deps.clock.now();
      const customers = await lockCustomers(trx, caller.org.id, identifierSetOf(queries), deps.lockTimeoutMs);
      const stored = await findMembershipsOfCustomers(
        trx,
        caller.org.id,
        customers.map((c) => c.id),
      );
      const state = new WorkingState(stored, now, caller.org.timezone);
      const outcome = decideAll(items, { now, org: caller.org, programsByName, customers, state }, decide);
      const events = await batchEvents(trx, caller, programs, customers, state.activities);
      await saveMembershipChanges(trx, caller.org.id, now, state.changed(), state.activities, events);
      if (recording) {
        await storeIdempotentAnswer(trx, recording.claim.scope, recording.claim.token, recording.render(outcome));
        outcome.answerStored = true;
      }
      return { outcome, events };
    });
    reportEvents(deps.telemetry ?? noTelemetry, done.events);
    return done.outcome;
  } catch (error) {
    const failure: RollbackOutcome = error instanceof LockTimeoutError ? 'CUSTOMER_BUSY' : 'INTERNAL_ERROR';
    return {
      items: items.map((item) => ({
        customer: { outcome: failure },
        entries: item.entries.map((entry) => ({ entry, outcome: failure })),
      })),
      warnings: [],
      fault: failure === 'INTERNAL_ERROR' ? error : undefined,
      rolledBack: failure,
    };
  }
}

/**
 * The events of the batch's changes. The programs the request named are known; a catch-up in a
 * program it did not name (rare) reads that program's facts in one more statement.
 */
async function batchEvents(
  trx: Transaction<Database>,
  caller: Caller,
  named: readonly PartnerProgram[],
  customers: readonly StoredCustomer[],
  activities: readonly Activity[],
): Promise<NewEvent[]> {
  if (activities.length === 0) return [];
  const programs = new Map<number, ProgramFacts>(named.map((p) => [p.id, p]));
  const missing = new Set(activities.map((a) => a.programId).filter((id) => !programs.has(id)));
  for (const p of await findProgramsByIds(trx, caller.org.id, [...missing])) programs.set(p.id, p);
  const byId = new Map(customers.map((c) => [c.id, c]));
  return eventsOf(activities, {
    timeZoneOf: () => caller.org.timezone,
    customer: (id) => byId.get(id),
    program: (id) => programs.get(id),
    requestId: caller.requestId ?? null,
    source: caller.source ?? 'API',
  });
}

/** The memberships of the batch's customers, changed in place as entries are decided. */
class WorkingState {
  private readonly byCustomer = new Map<number, Map<number, Membership>>();
  private readonly changedKeys = new Map<string, Membership>();
  readonly activities: Activity[] = [];

  constructor(stored: Membership[], now: Temporal.Instant, timeZone: string) {
    for (const membership of stored) {
      // Whatever fell due before this request (a scheduled start, an end, a pending relink) happens first.
      const advanced = advanceMembership(membership, now, timeZone);
      if (advanced.activities.length > 0) this.save(advanced.membership, advanced.activities);
      else this.put(membership);
    }
  }

  get(customerId: number, programId: number): Membership | undefined {
    return this.byCustomer.get(customerId)?.get(programId);
  }

  ofCustomer(customerId: number): Membership[] {
    return [...(this.byCustomer.get(customerId)?.values() ?? [])];
  }

  save(membership: Membership, activities: Activity[]): void {
    this.put(membership);
    this.changedKeys.set(membershipKey(membership.customerId, membership.programId), membership);
    this.activities.push(...settle(activities, membership));
  }

  changed(): Membership[] {
    return [...this.changedKeys.values()];
  }

  private put(membership: Membership): void {
    let programs = this.byCustomer.get(membership.customerId);
    if (!programs) this.byCustomer.set(membership.customerId, (programs = new Map()));
    programs.set(membership.programId, membership);
  }
}

function decideAll<E extends BatchEntry>(
  items: ReadonlyArray<BatchItem<E>>,
  scope: {
    now: Temporal.Instant;
    org: OrgContext;
    programsByName: Map<string, PartnerProgram>;
    customers: StoredCustomer[];
    state: WorkingState;
  },
  decide: Decide<E>,
): BatchOutcome<E> {
  const index = indexCustomers(scope.customers);
  const outcome: BatchOutcome<E> = { items: [], warnings: [] };
  items.forEach((item, customerIndex) => {
    const parsed = item.customer;
    const resolution = parsed.ok ? resolveCustomer(parsed, index) : ({ ok: false, outcome: parsed.outcome } as const);
    if (!resolution.ok) {
      const failure = resolution.outcome;
      outcome.items.push({
        customer: { outcome: failure },
        entries: item.entries.map((entry) => ({ entry, outcome: failure })),
      });
      return;
    }
    const customer = resolution.customer;
    const context: EntryContext = {
      now: scope.now,
      org: scope.org,
      customer,
      customerIndex,
      program: (name) => scope.programsByName.get(name.toLowerCase()),
      membership: (programId) => scope.state.get(customer.id, programId),
      memberships: () => scope.state.ofCustomer(customer.id),
      save: (membership, activities) => scope.state.save(membership, activities),
      warn: (warning) => outcome.warnings.push({ ...warning, customerIndex }),
    };
    const entries = item.entries.map((entry) => ({ entry, outcome: entry.failure ?? decide(entry, context) }));
    outcome.items.push({ customer: { outcome: 'FOUND', customer }, entries });
  });
  return outcome;
}
