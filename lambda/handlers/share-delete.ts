import { createShareCutOff } from '../adapters/share-cut-off';
import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { shareRevoker, config, dynamo, log } = getRuntime();
// Only this function carries the cut-off's adapter (a Lambda client) and the worker's name
// (CUT_OFF_WORKER_FUNCTION); a missing name fails here, at start, not per request.
const revoker = shareRevoker(createShareCutOff({ config, dynamo, log }));

/**
 * `DELETE /shares/{id}`: the owner revokes or the grantee leaves; credentials already issued for
 * the share are cut off first (204).
 */
export const handler = httpEndpoint('shareDelete', async (event, { token }) => {
  await revoker.remove(token, event.pathParameters?.id, originOf(event));
  return { status: 204 };
});
