import { requireBearerToken } from '../bearer-token.js';

/** onRequest hook: the ADMIN_TOKEN as a Bearer token, else 401. */
export function requireAdminToken(token: string) {
  return requireBearerToken(token, {
    realm: 'admin',
    message: 'Authentication failed: send the admin token as "Authorization: Bearer <token>"',
  });
}
