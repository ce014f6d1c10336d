import { httpEndpoint, originOf } from './http';
import { getRuntime } from './runtime';

const { links } = getRuntime();

/** `DELETE /links/{id}`: the owner revokes a link; it answers 404 from then on (204). */
export const handler = httpEndpoint('linkDelete', async (event, { token }) => {
  await links.remove(token, event.pathParameters?.id, originOf(event));
  return { status: 204 };
});
