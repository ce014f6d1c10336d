import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { shares } = getRuntime();

/** `POST /shares`: shares part of the caller's folder with another user (201 with the share). */
export const handler = httpEndpoint('shareCreate', async (event, { token, body }) => ({
  status: 201,
  body: await shares.create(token, body, originOf(event)),
}));
