/** An Idempotency-Key belongs to one credential of one org (SPEC §11). */
export interface IdempotencyScope {
  orgId: number;
  credential: string;
  key: string;
}

export interface StoredIdempotencyKey {
  requestHash: string;
  statusCode: number | null;
  responseBody: string | null;
}
