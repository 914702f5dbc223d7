import { Type } from 'typebox';
import { answer, notFound, type AdminApp, type AdminDependencies } from './common.js';
import {
  adminDocs,
  ConfigsPatchBody,
  adminErrors,
  INVALID,
  INVALID_PATH,
  LoyaltyProgramBody,
  LoyaltyProgramParams,
  LoyaltyProgramView,
  NO_ORG,
  OrgBody,
  OrgParams,
  OrgSummary,
  OrgView,
} from './schemas.js';

export function orgRoutes(
  app: AdminApp,
  { listOrgs, describeOrg, putOrg, patchOrgConfigs, putLoyaltyProgram }: AdminDependencies,
): void {
  app.get(
    '/orgs',
    {
      schema: {
        ...adminDocs,
        operationId: 'listOrgs',
        summary: 'List orgs',
        response: { 200: Type.Object({ orgs: Type.Array(OrgSummary) }), ...adminErrors() },
      },
    },
    async () => ({ orgs: await listOrgs() }),
  );

  app.get(
    '/orgs/:orgId',
    {
      schema: {
        ...adminDocs,
        operationId: 'getOrg',
        summary: 'An org with its programs, tills (without passwords) and customer count',
        params: OrgParams,
        response: { 200: OrgView, ...adminErrors({ 400: INVALID_PATH, 404: NO_ORG }) },
      },
    },
    async (request, reply) => {
      const org = await describeOrg(Number(request.params.orgId));
      return org ?? notFound(reply, `org ${request.params.orgId}`);
    },
  );

  app.put(
    '/orgs/:orgId',
    {
      schema: {
        ...adminDocs,
        operationId: 'putOrg',
        summary: 'Create or update an org',
        description: 'A left-out timezone keeps the stored one (the server TZ on create); configs are merged.',
        params: OrgParams,
        body: OrgBody,
        response: { 200: OrgSummary, ...adminErrors({ 400: INVALID }) },
      },
    },
    async (request, reply) => answer(reply, await putOrg(Number(request.params.orgId), request.body)),
  );

  app.patch(
    '/orgs/:orgId/configs',
    {
      schema: {
        ...adminDocs,
        operationId: 'patchOrgConfigs',
        summary: 'Merge org configs (a null removes a key)',
        params: OrgParams,
        body: ConfigsPatchBody,
        response: {
          200: Type.Object({ configs: OrgSummary.properties.configs }),
          ...adminErrors({ 400: INVALID, 404: NO_ORG }),
        },
      },
    },
    async (request, reply) => {
      const result = await patchOrgConfigs(Number(request.params.orgId), request.body);
      return answer(reply, result.ok ? { ok: true, value: { configs: result.value } } : result);
    },
  );

  app.put(
    '/orgs/:orgId/loyaltyPrograms/:loyaltyProgramId',
    {
      schema: {
        ...adminDocs,
        operationId: 'putLoyaltyProgram',
        summary: 'Create or update a loyalty program (its id is unique across the service)',
        params: LoyaltyProgramParams,
        body: LoyaltyProgramBody,
        response: {
          200: LoyaltyProgramView,
          ...adminErrors({ 400: INVALID, 404: NO_ORG, 409: 'The loyalty program id belongs to another org' }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, loyaltyProgramId } = request.params;
      return answer(reply, await putLoyaltyProgram(Number(orgId), Number(loyaltyProgramId), request.body));
    },
  );
}
