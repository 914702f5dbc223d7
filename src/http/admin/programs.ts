import { Type } from 'typebox';
import { answer, notFound, type AdminApp, type AdminDependencies } from './common.js';
import {
  adminDocs,
  adminErrors,
  INVALID,
  INVALID_PATH,
  NO_ORG,
  OrgParams,
  PartnerProgramBody,
  PartnerProgramParams,
  PartnerProgramView,
} from './schemas.js';

export function partnerProgramRoutes(
  app: AdminApp,
  { describePartnerPrograms, putPartnerProgram }: AdminDependencies,
): void {
  app.get(
    '/orgs/:orgId/partnerPrograms',
    {
      schema: {
        ...adminDocs,
        operationId: 'listPartnerPrograms',
        summary: "List the org's partner programs",
        params: OrgParams,
        response: {
          200: Type.Object({ partnerPrograms: Type.Array(PartnerProgramView) }),
          ...adminErrors({ 400: INVALID_PATH, 404: NO_ORG }),
        },
      },
    },
    async (request, reply) => {
      const partnerPrograms = await describePartnerPrograms(Number(request.params.orgId));
      return partnerPrograms ? { partnerPrograms } : notFound(reply, `org ${request.params.orgId}`);
    },
  );

  app.put(
    '/orgs/:orgId/partnerPrograms/:name',
    {
      schema: {
        ...adminDocs,
        operationId: 'putPartnerProgram',
        summary: 'Create or update a partner program, found by name case-insensitively',
        description:
          'Fields left out keep their stored value (defaults on create: active true, no expiry, no backup); ' +
          '`expiryDate: null` and `backupProgram: null` clear them; `tiers` replaces the tier list. ' +
          'The type of an existing program cannot change (409), nor can a tier that memberships hold be removed or renamed (409).',
        params: PartnerProgramParams,
        body: PartnerProgramBody,
        response: {
          200: PartnerProgramView,
          ...adminErrors({
            400: INVALID,
            404: NO_ORG,
            409: 'The type would change, or a tier that memberships hold would be removed or renamed',
          }),
        },
      },
    },
    async (request, reply) => {
      const { orgId, name } = request.params;
      return answer(reply, await putPartnerProgram(Number(orgId), name, request.body));
    },
  );
}
