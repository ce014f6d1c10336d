/** The vending role's cut-off list, shared with the deletion worker: see lambda/adapters/revocation-list.ts. */
export * from '../lambda/adapters/revocation-list';
