/**
 * The sandbox's API Gateway adapter builds proxy events from any request API Gateway would
 * pass on: header and query names that are also names of JavaScript object members are
 * ordinary names, never a crash (a 502) of the adapter.
 */
import { sandboxForThisFile } from '../support/e2e';

const sandbox = sandboxForThisFile('tvm-api-adapter-');

test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
  'a query parameter and a header named %s reach the function: /token answers its own 401',
  async (name) => {
    const response = await fetch(`${sandbox().apiUrl}/token?${name}=1&${name}=2`, {
      method: 'POST',
      headers: { Authorization: 'Bearer not-a-token', [name === '__proto__' ? 'x-proto' : name]: 'x' },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 'invalid_credentials', message: expect.any(String) } });
  },
);
