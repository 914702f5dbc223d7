/** The SQLSTATE of a database error, from either driver (pg and PGlite both expose `code`). */
export function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The SQLSTATE and the constraint of a failed statement (pg and PGlite both expose them). */
export function violationOf(error: unknown): { code: string; constraint: string | undefined } | undefined {
  const code = sqlState(error);
  if (code === undefined) return undefined;
  const constraint = (error as { constraint?: unknown }).constraint;
  return { code, constraint: typeof constraint === 'string' ? constraint : undefined };
}

export const LOCK_NOT_AVAILABLE = '55P03';
export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
export const DEADLOCK_DETECTED = '40P01';

/**
 * Rows stayed locked past the lock timeout (or the wait deadlocked): another transaction is
 * working on them. The use case decides what that means for its caller.
 */
export class LockTimeoutError extends Error {
  constructor(options?: ErrorOptions) {
    super('Rows stayed locked past the lock timeout', options);
    this.name = 'LockTimeoutError';
  }
}
