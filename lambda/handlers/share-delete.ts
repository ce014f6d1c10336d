import { requireCutOffWorker } from '../platform/config';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { shares, config } = getRuntime();
// This function revokes shares: without the cut-off worker's name it fails at start, not per request.
requireCutOffWorker(config);

/** `DELETE /shares/{id}`: the owner revokes or the grantee leaves; issued credentials are cut off (204). */
export const handler = httpEndpoint('shareDelete', async (event, { token }) => {
  await shares.remove(token, event.pathParameters?.id, originOf(event));
  return { status: 204 };
});
