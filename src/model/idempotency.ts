/** An Idempotency-Key belongs to one credential of one org (SPEC §11). */
export interface IdempotencyScope {
  orgId: number;
  credential: string;
  key: string;
}

/** The claim a request holds on its key: the key, and the token that proves the claim is this request's. */
export interface IdempotencyClaim {
  scope: IdempotencyScope;
  token: string;
}

export interface StoredIdempotencyKey {
  requestHash: string;
  statusCode: number | null;
  responseBody: string | null;
}
