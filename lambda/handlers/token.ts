import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { service } = getRuntime();

/** `POST /token`: fresh credentials for a live session. Any body is ignored. */
export const handler = httpEndpoint('token', async (event, { token }) => ({
  status: 200,
  body: await service.token(token, originOf(event)),
}));
