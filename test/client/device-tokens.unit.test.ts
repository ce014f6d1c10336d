import { MemoryDeviceTokenStore, TvmClient, type DeviceTokenStore } from '@serverless-tvm/client';
import { FakeTvm, json, sessionResult } from './fake-tvm';

const BASE_URL = 'https://tvm.example.com/prod/';
const TOKEN = 'D'.repeat(43);

describe('TvmClient device tokens (issue 14 item 6)', () => {
  it('keeps the device token a register returns and sends it on the next login, also after logout', async () => {
    const tvm = new FakeTvm()
      .answer(json(201, { ...sessionResult('alice'), deviceToken: TOKEN }))
      .answer(new Response(null, { status: 204 }))
      .answer(json(200, { ...sessionResult('alice'), deviceToken: TOKEN }));
    const client = new TvmClient({ baseUrl: BASE_URL, fetch: tvm.fetch });
    await expect(client.register('Alice', 'correct horse')).resolves.toMatchObject({ deviceToken: TOKEN });
    await client.logout();
    await client.login('ALICE', 'correct horse');
    expect(tvm.requests.at(-1)?.body).toEqual({ username: 'ALICE', password: 'correct horse', deviceToken: TOKEN });
  });

  it('sends no device token for a user it has none for, and uses a store the app gives', async () => {
    const store = new MemoryDeviceTokenStore();
    store.save('bob', TOKEN);
    const tvm = new FakeTvm().answer(json(200, sessionResult('alice'))).answer(json(200, sessionResult('bob')));
    const client = new TvmClient({ baseUrl: BASE_URL, fetch: tvm.fetch, deviceTokens: store });
    await client.login('alice', 'pw');
    expect(tvm.requests[0]?.body).toEqual({ username: 'alice', password: 'pw' });
    await client.login('bob', 'pw');
    expect(tvm.requests[1]?.body).toEqual({ username: 'bob', password: 'pw', deviceToken: TOKEN });
  });

  it('a store that fails to load or save does not fail the login', async () => {
    const broken: DeviceTokenStore = {
      load: () => Promise.reject(new Error('storage unavailable')),
      save: () => Promise.reject(new Error('storage full')),
    };
    const tvm = new FakeTvm().answer(json(200, { ...sessionResult('alice'), deviceToken: TOKEN }));
    const client = new TvmClient({ baseUrl: BASE_URL, fetch: tvm.fetch, deviceTokens: broken });
    await expect(client.login('alice', 'pw')).resolves.toMatchObject({ username: 'alice' });
  });
});
