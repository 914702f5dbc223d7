/**
 * The command could not run: bad arguments, an unreadable file, wrong credentials, a service
 * that answers no request. The CLI prints the message on one line and exits 2 (SPEC §2a).
 */
export class CannotRun extends Error {
  override readonly name = 'CannotRun';
}
