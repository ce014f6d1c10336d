import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { sessions } = getRuntime();

/** `POST /token`: fresh credentials for a live session. Any body is ignored. */
export const handler = httpEndpoint('token', async (event, { token }) => ({
  status: 200,
  body: await sessions.token(token, originOf(event)),
}));
