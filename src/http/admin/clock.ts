import { Type } from 'typebox';
import type { Clock } from '../../domain/clock.js';
import { formatUtc, parseApiDate } from '../../domain/dates.js';
import type { SandboxClock } from '../../domain/sandbox-clock.js';
import { sendProblems, type AdminApp } from './common.js';
import { adminDocs, adminErrors } from './schemas.js';

const ClockView = Type.Object(
  {
    now: Type.String({ description: "The service's time, ISO-8601 UTC" }),
    overridden: Type.Boolean({ description: 'True while the clock is moved away from real time' }),
  },
  { $id: 'SandboxClock' },
);

/**
 * The sandbox clock (SPEC §8). Reading it always works; moving it needs ALLOW_CLOCK_OVERRIDE=true,
 * which is never the default: moved time changes every rule and job of every org.
 */
export function clockRoutes(app: AdminApp, deps: { clock: Clock; sandbox: SandboxClock | undefined }): void {
  const view = () => ({ now: formatUtc(deps.clock.now()), overridden: deps.sandbox?.overridden ?? false });
  const disabled = 'Clock override is disabled: start the service with ALLOW_CLOCK_OVERRIDE=true';
  const notAllowed = 'The clock cannot move: ALLOW_CLOCK_OVERRIDE is not true';

  app.get(
    '/clock',
    {
      schema: {
        ...adminDocs,
        operationId: 'getClock',
        summary: "The service's time",
        response: { 200: ClockView, ...adminErrors() },
      },
    },
    async () => view(),
  );

  app.put(
    '/clock',
    {
      schema: {
        ...adminDocs,
        operationId: 'setClock',
        summary: "Move the service's time (forward or back); it runs on from there",
        body: Type.Object({
          now: Type.String({
            minLength: 1,
            examples: ['2027-01-01T00:00:00+05:30'],
            description:
              "ISO-8601. The clock is the whole service's, not one org's: a date-time without an offset, or a date alone, is read in UTC.",
          }),
        }),
        response: {
          200: ClockView,
          ...adminErrors({ 400: 'now is missing or not an ISO-8601 date-time', 403: notAllowed }),
        },
      },
    },
    async (request, reply) => {
      if (!deps.sandbox) return sendProblems(reply, 403, [disabled]);
      const instant = parseApiDate(request.body.now, 'UTC');
      if (!instant) return sendProblems(reply, 400, ['now: not an ISO-8601 date-time']);
      await deps.sandbox.set(instant);
      // The instant as set: the clock runs on from it, and a read a moment later shows that.
      return { now: formatUtc(instant), overridden: true };
    },
  );

  app.delete(
    '/clock',
    {
      schema: {
        ...adminDocs,
        operationId: 'resetClock',
        summary: 'Return to real time',
        response: { 200: ClockView, ...adminErrors({ 403: notAllowed }) },
      },
    },
    async (_request, reply) => {
      if (!deps.sandbox) return sendProblems(reply, 403, [disabled]);
      await deps.sandbox.set(null);
      return view();
    },
  );
}
