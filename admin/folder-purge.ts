/** Deleting a user's folder for good, shared with the deletion worker: see lambda/adapters/folder-purge.ts. */
export * from '../lambda/adapters/folder-purge';
