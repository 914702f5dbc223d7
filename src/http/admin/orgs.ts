import { Type } from 'typebox';
import { describeOrg, listOrgSummaries } from '../../domain/admin/views.js';
import { patchOrgConfigs, putLoyaltyProgram, putOrg } from '../../domain/configuration.js';
import { answer, notFound, type AdminApp, type AdminDependencies } from './common.js';
import {
  adminDocs,
  ConfigsPatchBody,
  errorResponses,
  LoyaltyProgramBody,
  LoyaltyProgramParams,
  LoyaltyProgramView,
  OrgBody,
  OrgParams,
  OrgSummary,
  OrgView,
} from './schemas.js';

export function orgRoutes(app: AdminApp, { db, defaultTimezone }: AdminDependencies): void {
  app.get(
    '/orgs',
    {
      schema: { ...adminDocs, summary: 'List orgs', response: { 200: Type.Object({ orgs: Type.Array(OrgSummary) }) } },
    },
    async () => ({ orgs: await listOrgSummaries(db) }),
  );

  app.get(
    '/orgs/:orgId',
    {
      schema: {
        ...adminDocs,
        summary: 'An org with its programs, tills (without passwords) and customer count',
        params: OrgParams,
        response: { 200: OrgView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const org = await describeOrg(db, Number(request.params.orgId));
      return org ?? notFound(reply, `org ${request.params.orgId}`);
    },
  );

  app.put(
    '/orgs/:orgId',
    {
      schema: {
        ...adminDocs,
        summary: 'Create or update an org',
        description: 'A left-out timezone keeps the stored one (the server TZ on create); configs are merged.',
        params: OrgParams,
        body: OrgBody,
        response: { 200: OrgSummary, ...errorResponses },
      },
    },
    async (request, reply) =>
      answer(reply, await putOrg(db, Number(request.params.orgId), request.body, defaultTimezone)),
  );

  app.patch(
    '/orgs/:orgId/configs',
    {
      schema: {
        ...adminDocs,
        summary: 'Merge org configs (a null removes a key)',
        params: OrgParams,
        body: ConfigsPatchBody,
        response: { 200: Type.Object({ configs: OrgSummary.properties.configs }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const result = await patchOrgConfigs(db, Number(request.params.orgId), request.body);
      return answer(reply, result.ok ? { ok: true, value: { configs: result.value } } : result);
    },
  );

  app.put(
    '/orgs/:orgId/loyaltyPrograms/:loyaltyProgramId',
    {
      schema: {
        ...adminDocs,
        summary: 'Create or update a loyalty program (its id is unique across the service)',
        params: LoyaltyProgramParams,
        body: LoyaltyProgramBody,
        response: { 200: LoyaltyProgramView, ...errorResponses },
      },
    },
    async (request, reply) => {
      const { orgId, loyaltyProgramId } = request.params;
      return answer(reply, await putLoyaltyProgram(db, Number(orgId), Number(loyaltyProgramId), request.body));
    },
  );
}
