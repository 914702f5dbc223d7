/** A customer row stayed locked past the lock timeout: another request is working on it. */
export class CustomersBusyError extends Error {
  constructor(options?: ErrorOptions) {
    super('Customer rows stayed locked past the lock timeout', options);
    this.name = 'CustomersBusyError';
  }
}
