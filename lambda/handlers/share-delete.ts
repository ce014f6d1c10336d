import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { shares } = getRuntime();

/**
 * `DELETE /shares/{id}`: the owner revokes or the grantee leaves; credentials already issued for
 * the share are cut off first (204). The cut-off needs the worker's name (CUT_OFF_WORKER_FUNCTION),
 * which the stack gives this function alone.
 */
export const handler = httpEndpoint('shareDelete', async (event, { token }) => {
  await shares.remove(token, event.pathParameters?.id, originOf(event));
  return { status: 204 };
});
