import { Type } from 'typebox';
import { answer, notFound, sendFailure, type AdminApp, type AdminDependencies } from './common.js';
import {
  adminDocs,
  adminErrors,
  INVALID,
  INVALID_PATH,
  NO_ORG,
  OAuthClientBody,
  OAuthClientParams,
  OAuthClientView,
  OrgParams,
} from './schemas.js';

const NO_CLIENT = 'No such org, or no such OAuth client in it';

export function oauthClientRoutes(
  app: AdminApp,
  { describeOAuthClients, putOAuthClient, removeOAuthClient }: AdminDependencies,
): void {
  app.get(
    '/orgs/:orgId/oauthClients',
    {
      schema: {
        ...adminDocs,
        operationId: 'listOAuthClients',
        summary: "List the org's OAuth clients (never their secrets)",
        params: OrgParams,
        response: {
          200: Type.Object({ oauthClients: Type.Array(OAuthClientView) }),
          ...adminErrors({ 400: INVALID_PATH, 404: NO_ORG }),
        },
      },
    },
    async (request, reply) => {
      const oauthClients = await describeOAuthClients(Number(request.params.orgId));
      return oauthClients ? { oauthClients } : notFound(reply, `org ${request.params.orgId}`);
    },
  );

  app.get(
    '/orgs/:orgId/oauthClients/:key',
    {
      schema: {
        ...adminDocs,
        operationId: 'getOAuthClient',
        summary: 'An OAuth client of the org (never its secret)',
        params: OAuthClientParams,
        response: { 200: OAuthClientView, ...adminErrors({ 400: INVALID_PATH, 404: NO_CLIENT }) },
      },
    },
    async (request, reply) => {
      const { orgId, key } = request.params;
      const [client] = (await describeOAuthClients(Number(orgId), key)) ?? [];
      return client ?? notFound(reply, `OAuth client "${key}" in org ${orgId}`);
    },
  );

  app.put(
    '/orgs/:orgId/oauthClients/:key',
    {
      schema: {
        ...adminDocs,
        operationId: 'putOAuthClient',
        summary: 'Create or update an OAuth client (key and secret for POST /v3/oauth/token/generate)',
        description:
          'Keys are unique across the service: one that belongs to another org answers 409. A left-out tokenTtlSeconds keeps the stored one (3600 on create; at most 3600). A new secret revokes every token issued before it.',
        params: OAuthClientParams,
        body: OAuthClientBody,
        response: {
          200: OAuthClientView,
          ...adminErrors({ 400: INVALID, 404: NO_ORG, 409: 'The key is an OAuth client of another org' }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, key } = request.params;
      return answer(reply, await putOAuthClient(Number(orgId), key, request.body));
    },
  );

  app.delete(
    '/orgs/:orgId/oauthClients/:key',
    {
      schema: {
        ...adminDocs,
        operationId: 'deleteOAuthClient',
        summary: 'Delete an OAuth client; its tokens stop working at once',
        params: OAuthClientParams,
        response: {
          204: Type.Null({ description: 'Deleted' }),
          ...adminErrors({ 400: INVALID_PATH, 404: NO_CLIENT }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, key } = request.params;
      const result = await removeOAuthClient(Number(orgId), key);
      return result.ok ? reply.code(204).send(null) : sendFailure(reply, result.failure);
    },
  );
}
