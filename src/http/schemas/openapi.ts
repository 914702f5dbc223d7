import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import type { RouteOptions } from 'fastify';
import { errorAnswer } from '../envelope.js';

const DESCRIPTION = [
  'Links loyalty customers to external (coalition) and supplementary (subscription) partner programs.',
  "Wire-compatible with Capillary's v2 Partner Program APIs.",
  '',
  'Every error answer is the envelope `{"errors":[{"status":false,"code":C,"message":M}],"warnings":[]}`',
  '(the token endpoint adds `"data":null`). An unknown path answers 404; a method a path does not serve',
  'answers 405 with an `Allow` header. A request that Node.js cannot parse answers 400, headers over the',
  'size limit 431, a request not received in time 408, each in the envelope and closing the connection.',
  '',
  'This document lists what this process serves: the `/admin/v1` paths are served, and listed, only',
  'when the `ADMIN_TOKEN` setting is set.',
].join('\n');

/**
 * The OpenAPI document's options; `version` is the package's. `metricsToken`: METRICS_TOKEN is
 * set, so /metrics asks for it (and the document names that scheme).
 */
export function openapiOptions(version: string, { metricsToken = false } = {}): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Partner program service', version, description: DESCRIPTION },
      // Relative: the document is served by the service it describes, wherever that is deployed.
      servers: [{ url: '/', description: 'The service that serves this document' }],
      components: {
        securitySchemes: {
          basicAuth: {
            type: 'http',
            scheme: 'basic',
            description: 'Till credentials: base64(username:md5hex(password))',
          },
          oauthToken: {
            type: 'apiKey',
            in: 'header',
            name: 'X-CAP-API-OAUTH-TOKEN',
            description: 'An access token from POST /v3/oauth/token/generate',
          },
          bearerToken: {
            type: 'http',
            scheme: 'bearer',
            bearerFormat: 'JWT',
            description: 'The same access token as Authorization: Bearer',
          },
          adminToken: { type: 'http', scheme: 'bearer', description: 'The ADMIN_TOKEN setting' },
          ...(metricsToken
            ? { metricsToken: { type: 'http', scheme: 'bearer', description: 'The METRICS_TOKEN setting' } }
            : {}),
        },
      },
    },
    // @fastify/swagger 9 rewrites `patternProperties` as `additionalProperties` (an OpenAPI 3.0
    // habit, see the TODO in its lib/spec/openapi/utils.js), which in 3.1 publishes a looser rule
    // than the one validated. The keyword is carried past that rewrite under another name.
    transform: ({ schema, url }) => ({ schema: renameKey(schema, 'patternProperties', CARRIED), url }),
    transformObject: (document) =>
      renameKey(
        'openapiObject' in document ? document.openapiObject : document.swaggerObject,
        CARRIED,
        'patternProperties',
      ),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  };
}

const CARRIED = 'x-patternProperties';

function renameKey<T>(value: T, from: string, to: string): T {
  if (Array.isArray(value)) return value.map((item: unknown) => renameKey(item, from, to)) as T;
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key === from ? to : key, renameKey(item, from, to)]),
  ) as T;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * onRoute hook: what every operation's documentation needs and no route should have to repeat.
 * An operationId derived from the method and path where the route names none, and the answers
 * that come from the framework rather than the route: 400 for a malformed request (src/http/errors.ts),
 * 500 for a fault, 503 while the service drains (src/app.ts), and for a method with a body 413
 * and 415. A route that documents one of these statuses itself keeps its own.
 */
export function documentRoute(route: RouteOptions): void {
  const schema = route.schema as ({ hide?: boolean; operationId?: string; response?: object } & object) | undefined;
  if (!schema || schema.hide) return;
  const methods = [route.method].flat();
  const framework: Record<number, unknown> = {
    400: errorAnswer('The request is malformed: its URL, a parameter, its JSON or a header'),
    500: errorAnswer('A fault of the service'),
    503: errorAnswer('The service is shutting down; retry'),
  };
  if (methods.some((m) => BODY_METHODS.has(m))) {
    framework[413] = errorAnswer('The body is larger than BODY_LIMIT_BYTES');
    framework[415] = errorAnswer('The body is not application/json');
  }
  route.schema = {
    ...schema,
    operationId: schema.operationId ?? operationIdOf(methods[0] ?? 'GET', route.url),
    response: { ...framework, ...schema.response },
  };
}

/** `GET /v2/customers/{id}/partnerPrograms` → `getV2CustomersIdPartnerPrograms`. */
function operationIdOf(method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter(Boolean);
  return [method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('');
}
