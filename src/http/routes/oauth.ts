import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import { Type } from 'typebox';
import type { Authenticator } from '../../domain/authentication.js';
import { envelopeOnlyValidator, hasJsonContentType } from '../json-request.js';
import { errorAnswer, httpStatusOf, type RequestErrorCode } from '../envelope.js';
import { classify } from '../errors.js';
import { throttledMessage } from '../auth.js';

const TokenRequest = Type.Object(
  {
    key: Type.String({ minLength: 1, description: "The OAuth client's key" }),
    secret: Type.String({ minLength: 1, description: "The OAuth client's secret" }),
  },
  { $id: 'OAuthTokenRequest' },
);

const TokenResponse = Type.Object(
  {
    data: Type.Object({
      accessToken: Type.String({
        description: 'An RS256 JWT; send it as X-CAP-API-OAUTH-TOKEN or Authorization: Bearer',
      }),
      ttlSeconds: Type.Integer({ description: 'Seconds the token stays valid (at most 3600)' }),
    }),
    errors: Type.Array(Type.Unknown(), { maxItems: 0 }),
  },
  { $id: 'OAuthTokenResponse' },
);

const TokenError = Type.Object(
  { data: Type.Null(), errors: Type.Array(Type.Ref('Status')), warnings: Type.Array(Type.Unknown()) },
  { $id: 'OAuthTokenError', description: 'No token: `data` is null and `errors` says why.' },
);

/**
 * `POST /v3/oauth/token/generate` (SPEC §10), no authentication. Its answers keep Capillary's
 * `{data, errors}` shape even when failing (`data: null`), plus the `warnings` of every other
 * error envelope, so a client reading either shape understands them. Encapsulated so that its
 * error handler (malformed JSON, body too large) answers in the same shape.
 */
export const oauthTokenRoutes: FastifyPluginAsync<{ authenticator: Authenticator }> = async (
  instance,
  { authenticator },
) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(TokenRequest);
  app.addSchema(TokenResponse);
  app.addSchema(TokenError);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const [code, message] = classify(error);
    if (code === 500) request.log.error({ err: error }, 'token generation failed');
    return sendTokenError(reply, code, message);
  });

  app.post(
    '/v3/oauth/token/generate',
    {
      validatorCompiler: envelopeOnlyValidator,
      schema: {
        operationId: 'generateOAuthToken',
        tags: ['authentication'],
        summary: "Exchange an OAuth client's key and secret for an access token",
        description:
          'No authentication. 401 for an unknown key or a wrong secret (the answer never says which); after 10 failures for one key within 5 minutes, 429 with Retry-After for every attempt with it until the oldest failure is 5 minutes old.',
        security: [],
        body: Type.Ref('OAuthTokenRequest'),
        response: {
          200: Type.Ref('OAuthTokenResponse'),
          ...Object.fromEntries([400, 401, 413, 415, 429, 500].map((status) => [status, Type.Ref('OAuthTokenError')])),
          // Answered before the route runs, by the app, in the envelope of every other path.
          503: errorAnswer('The service is shutting down; retry'),
        },
      },
    },
    async (request, reply) => {
      if (!hasJsonContentType(request)) return sendTokenError(reply, 415, 'Content-Type must be application/json');
      const body = request.body as Record<string, unknown> | null;
      const key = typeof body === 'object' && body !== null ? body.key : undefined;
      const secret = typeof body === 'object' && body !== null ? body.secret : undefined;
      if (typeof key !== 'string' || key === '' || typeof secret !== 'string' || secret === '') {
        return sendTokenError(reply, 400, 'key and secret are required, as non-empty strings');
      }
      const grant = await authenticator.issueToken(key, secret);
      if (!grant.ok) {
        if (grant.failure.kind === 'throttled') {
          void reply.header('Retry-After', String(grant.failure.retryAfterSeconds));
          return sendTokenError(reply, 429, throttledMessage(grant.failure.retryAfterSeconds));
        }
        return sendTokenError(reply, 401, grant.failure.message);
      }
      // RFC 6749 §5.1: a token response must not be cached by anything in between.
      void reply.header('Cache-Control', 'no-store');
      return { data: { accessToken: grant.accessToken, ttlSeconds: grant.ttlSeconds }, errors: [] };
    },
  );
};

function sendTokenError(reply: FastifyReply, code: RequestErrorCode, message: string): FastifyReply {
  return reply.code(httpStatusOf(code)).send({ data: null, errors: [{ status: false, code, message }], warnings: [] });
}
