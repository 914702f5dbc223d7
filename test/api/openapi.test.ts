import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandDeclarations, NOW } from '../support/fixtures.js';
import { redoclyLint } from '../support/redocly.js';
import { startTestServer, type TestServer } from '../support/server.js';

// The OpenAPI document at /openapi.json says what the server does, and passes Redocly's lint.
let server: TestServer;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
let doc: any;

beforeAll(async () => {
  server = await startTestServer({ declarations: brandDeclarations(0), now: NOW });
  doc = (await server.request('GET', '/openapi.json')).body;
});
afterAll(() => server.close());

interface Operation {
  method: string;
  path: string;
  operationId?: string;
  security?: unknown[];
  responses: Record<string, { content?: Record<string, { schema: { $ref?: string } }> }>;
  parameters?: Array<{ name: string; in: string; required: boolean; schema: Record<string, unknown> }>;
}

function operations(): Operation[] {
  return Object.entries(doc.paths as Record<string, Record<string, Omit<Operation, 'method' | 'path'>>>).flatMap(
    ([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ method, path, ...operation })),
  );
}
const operation = (method: string, path: string) => doc.paths[path][method] as Operation;

describe('the OpenAPI document', () => {
  it('passes Redocly lint with the recommended rules: no error, no warning', async () => {
    const report = await redoclyLint(doc);
    expect(report.problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it("names the package's version and a server relative to wherever it is served", async () => {
    const { version } = JSON.parse(await readFile('package.json', 'utf8'));
    expect(doc.info.version).toBe(version);
    expect(doc.servers).toEqual([{ url: '/', description: expect.any(String) }]);
  });

  it('gives every operation a unique camelCase operationId', () => {
    const ids = operations().map((o) => o.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z0-9]*$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(operation('post', '/v2/partnerProgram/linkCustomer').operationId).toBe('linkCustomer');
    expect(operation('get', '/v2/partnerProgram/customerActivityHistories').operationId).toBe(
      'customerActivityHistories',
    );
  });

  it('asks no credentials of the token endpoint and the probes, and the admin token on every admin path', () => {
    for (const [method, path] of [
      ['post', '/v3/oauth/token/generate'],
      ['get', '/health'],
      ['get', '/ready'],
    ] as const) {
      expect(operation(method, path).security).toEqual([]);
    }
    const admin = operations().filter((o) => o.path.startsWith('/admin/v1/'));
    expect(admin.length).toBeGreaterThan(15);
    for (const o of admin) expect(o.security).toEqual([{ adminToken: [] }]);
    expect(doc.info.description).toMatch(/`\/admin\/v1` paths are served, and listed, only\s+when the `ADMIN_TOKEN`/);
  });

  it('lists an error answer in the envelope for every operation, and the framework answers 500 and 503', () => {
    for (const o of operations()) {
      const statuses = Object.keys(o.responses);
      expect(statuses, `${o.method} ${o.path}`).toEqual(expect.arrayContaining(['400', '500', '503']));
      if (['post', 'put', 'patch', 'delete'].includes(o.method)) {
        expect(statuses, `${o.method} ${o.path}`).toEqual(expect.arrayContaining(['413', '415']));
      }
    }
    expect(operation('get', '/health').responses[503]!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/ErrorEnvelope',
    });
  });

  it.each([
    ['get', '/admin/v1/orgs', ['200', '401']],
    ['get', '/admin/v1/orgs/{orgId}', ['200', '400', '401', '404']],
    ['put', '/admin/v1/orgs/{orgId}', ['200', '400', '401']],
    ['patch', '/admin/v1/orgs/{orgId}/configs', ['200', '400', '401', '404']],
    ['put', '/admin/v1/orgs/{orgId}/loyaltyPrograms/{loyaltyProgramId}', ['200', '400', '401', '404', '409']],
    ['get', '/admin/v1/orgs/{orgId}/partnerPrograms', ['200', '400', '401', '404']],
    ['put', '/admin/v1/orgs/{orgId}/partnerPrograms/{name}', ['200', '400', '401', '404', '409']],
    ['get', '/admin/v1/orgs/{orgId}/tills', ['200', '400', '401', '404']],
    ['put', '/admin/v1/orgs/{orgId}/tills/{username}', ['200', '400', '401', '404', '409']],
    ['get', '/admin/v1/orgs/{orgId}/oauthClients', ['200', '400', '401', '404']],
    ['get', '/admin/v1/orgs/{orgId}/oauthClients/{key}', ['200', '400', '401', '404']],
    ['put', '/admin/v1/orgs/{orgId}/oauthClients/{key}', ['200', '400', '401', '404', '409']],
    ['delete', '/admin/v1/orgs/{orgId}/oauthClients/{key}', ['204', '400', '401', '404']],
    ['post', '/admin/v1/orgs/{orgId}/customers', ['200', '400', '401', '404', '409']],
    ['get', '/admin/v1/orgs/{orgId}/customers/{customerId}', ['200', '400', '401', '404']],
    ['get', '/admin/v1/clock', ['200', '401']],
    ['put', '/admin/v1/clock', ['200', '400', '401', '403']],
    ['delete', '/admin/v1/clock', ['200', '401', '403']],
  ])('documents what %s %s answers, errors in the envelope', (method, path, answers) => {
    const { responses } = operation(method, path);
    const route = ['404', '409', '403'];
    // The statuses the route itself answers, no more (the framework's are checked above).
    expect(Object.keys(responses).filter((s) => route.includes(s) || s.startsWith('2'))).toEqual(
      answers.filter((s) => route.includes(s) || s.startsWith('2')),
    );
    for (const status of answers.filter((s) => Number(s) >= 400)) {
      expect(responses[status]!.content!['application/json']!.schema).toEqual({
        $ref: '#/components/schemas/ErrorEnvelope',
      });
      expect((responses[status] as { description?: string }).description).not.toBe('Default Response');
    }
    if (answers.includes('204')) expect(responses[204]!.content).toBeUndefined();
  });

  it.each(['/v2/partnerProgram/customerActivityHistories', '/v2/partnerProgram/customerActivityHistory'])(
    'publishes the query of %s: required parameters, listed values, ranges',
    (path) => {
      const parameters = Object.fromEntries(operation('get', path).parameters!.map((p) => [p.name, p]));
      const required = Object.values(parameters).filter((p) => p.required);
      expect(required.map((p) => p.name).sort()).toEqual(['activityType', 'identifierName', 'identifierValue']);
      expect(parameters.identifierName!.schema.enum).toEqual(['mobile', 'email', 'externalId', 'id']);
      expect(parameters.activityType!.schema.enum).toEqual(['LINKINGUPDATES', 'BENEFITSAVAILED']);
      expect(parameters.partnerProgramType!.schema.enum).toEqual(['EXTERNAL', 'SUPPLEMENTARY']);
      expect(parameters.limit!.schema).toMatchObject({ type: 'integer', minimum: 0, maximum: 10, default: 10 });
      expect(parameters.offset!.schema).toMatchObject({ type: 'integer', minimum: 0, default: 0 });
      expect(parameters.partnerProgramId!.schema).toMatchObject({ type: 'integer', minimum: 1 });
    },
  );
});

describe('org configs', () => {
  const KEY = '^[A-Z][A-Z0-9_]*$';
  const RULE = 'config keys are upper-case letters, digits and _ (^[A-Z][A-Z0-9_]*$)';
  const bodyOf = (method: string, path: string) =>
    (operation(method, path) as unknown as { requestBody: { content: Record<string, { schema: object }> } }).requestBody
      .content['application/json']!.schema as Record<string, unknown> & {
      properties: Record<string, unknown>;
    };

  it('publishes the rule the server checks: keys by pattern, no other key', () => {
    const rule = { patternProperties: { [KEY]: expect.any(Object) }, additionalProperties: false };
    expect(bodyOf('patch', '/admin/v1/orgs/{orgId}/configs')).toMatchObject({ type: 'object', ...rule });
    expect(bodyOf('put', '/admin/v1/orgs/{orgId}').properties.configs).toMatchObject({ type: 'object', ...rule });
  });

  it('accepts the keys the published pattern admits and names the rule for any other', async () => {
    const pattern = new RegExp(Object.keys(bodyOf('patch', '/admin/v1/orgs/{orgId}/configs').patternProperties!)[0]!);
    for (const key of ['A', 'FLAG_2', 'X_Y_Z']) expect(pattern.test(key)).toBe(true);
    const accepted = await server.request('PATCH', '/admin/v1/orgs/100/configs', {
      admin: true,
      body: { A: 1, FLAG_2: true, X_Y_Z: 'z' },
    });
    expect(accepted.status).toBe(200);

    for (const key of ['x-a', 'lower', '1ABC', '_A']) expect(pattern.test(key)).toBe(false);
    const patched = await server.request('PATCH', '/admin/v1/orgs/100/configs', {
      admin: true,
      body: { 'x-a': 1, OK: 2, lower: 3 },
    });
    expect(patched.status).toBe(400);
    expect(patched.body).toEqual({
      errors: [
        { status: false, code: 400, message: `x-a: ${RULE}` },
        { status: false, code: 400, message: `lower: ${RULE}` },
      ],
      warnings: [],
    });
    const put = await server.request('PUT', '/admin/v1/orgs/100', {
      admin: true,
      body: { name: 'Brand', configs: { '1ABC': true } },
    });
    expect(put.status).toBe(400);
    expect(put.body.errors).toEqual([{ status: false, code: 400, message: `configs.1ABC: ${RULE}` }]);
  });
});
