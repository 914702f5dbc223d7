import { Type } from 'typebox';
import { answer, notFound, type AdminApp, type AdminDependencies } from './common.js';
import {
  adminDocs,
  adminErrors,
  INVALID,
  INVALID_PATH,
  NO_ORG,
  OrgParams,
  TillBody,
  TillParams,
  TillView,
} from './schemas.js';

export function tillRoutes(app: AdminApp, { describeTills, putTill }: AdminDependencies): void {
  app.get(
    '/orgs/:orgId/tills',
    {
      schema: {
        ...adminDocs,
        operationId: 'listTills',
        summary: "List the org's tills (never their passwords)",
        params: OrgParams,
        response: {
          200: Type.Object({ tills: Type.Array(TillView) }),
          ...adminErrors({ 400: INVALID_PATH, 404: NO_ORG }),
        },
      },
    },
    async (request, reply) => {
      const tills = await describeTills(Number(request.params.orgId));
      return tills ? { tills } : notFound(reply, `org ${request.params.orgId}`);
    },
  );

  app.put(
    '/orgs/:orgId/tills/:username',
    {
      schema: {
        ...adminDocs,
        operationId: 'putTill',
        summary: 'Create or update a till (Basic credentials)',
        description: 'Usernames are unique across the service: one that belongs to another org answers 409.',
        params: TillParams,
        body: TillBody,
        response: {
          200: TillView,
          ...adminErrors({ 400: INVALID, 404: NO_ORG, 409: 'The username is a till of another org' }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, username } = request.params;
      return answer(reply, await putTill(Number(orgId), username, request.body));
    },
  );
}
