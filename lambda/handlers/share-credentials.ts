import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { shares } = getRuntime();

/** `POST /shares/{id}/credentials`: credentials reaching exactly the shared path, for the grantee only. Any body is ignored. */
export const handler = httpEndpoint('shareCredentials', async (event, { token }) => ({
  status: 200,
  body: await shares.credentials(token, event.pathParameters?.id, originOf(event)),
}));
