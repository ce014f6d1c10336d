/**
 * A problem the operator can fix, printed by tvm-admin as one line. It lives here because the
 * operator's adapters (the revocation list, the folder purge) are shared with the deletion
 * worker function; admin/target.ts re-exports it.
 */
export class AdminError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminError';
  }
}
