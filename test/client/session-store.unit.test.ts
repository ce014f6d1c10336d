import { LocalStorageSessionStore, MemorySessionStore, type KeyValueStorage } from '@serverless-tvm/client';

const session = { username: 'alice', token: 'bearer-1', expiresAt: '2026-12-26T12:00:00.000Z' };

function mapStorage(): KeyValueStorage & { backing: Map<string, string> } {
  const backing = new Map<string, string>();
  return {
    backing,
    getItem: (key) => backing.get(key) ?? null,
    setItem: (key, value) => void backing.set(key, value),
    removeItem: (key) => void backing.delete(key),
  };
}

describe('MemorySessionStore', () => {
  it('keeps, returns and clears a session', () => {
    const store = new MemorySessionStore();
    expect(store.load()).toBeUndefined();
    store.save(session);
    expect(store.load()).toEqual(session);
    store.clear();
    expect(store.load()).toBeUndefined();
  });
});

describe('LocalStorageSessionStore', () => {
  it('round-trips a session as JSON under the default key', async () => {
    const storage = mapStorage();
    const store = new LocalStorageSessionStore({ storage });

    await store.save(session);

    expect(JSON.parse(storage.backing.get('tvm.session') ?? '')).toEqual(session);
    await expect(store.load()).resolves.toEqual(session);
    await store.clear();
    expect(storage.backing.size).toBe(0);
  });

  it('uses a custom key', async () => {
    const storage = mapStorage();
    await new LocalStorageSessionStore({ storage, key: 'my-app.session' }).save(session);
    expect([...storage.backing.keys()]).toEqual(['my-app.session']);
  });

  it('reads a corrupt or incomplete entry as no session', async () => {
    const storage = mapStorage();
    const store = new LocalStorageSessionStore({ storage });
    storage.backing.set('tvm.session', '{not json');
    await expect(store.load()).resolves.toBeUndefined();
    storage.backing.set('tvm.session', JSON.stringify({ username: 'alice' }));
    await expect(store.load()).resolves.toBeUndefined();
  });

  it('works over an asynchronous storage such as React Native AsyncStorage', async () => {
    const backing = new Map<string, string>();
    const asyncStorage: KeyValueStorage = {
      getItem: async (key) => backing.get(key) ?? null,
      setItem: async (key, value) => void backing.set(key, value),
      removeItem: async (key) => void backing.delete(key),
    };
    const store = new LocalStorageSessionStore({ storage: asyncStorage });

    await store.save(session);

    await expect(store.load()).resolves.toEqual(session);
  });

  it('says clearly when there is no localStorage to use', () => {
    expect(() => new LocalStorageSessionStore()).toThrow(/no localStorage/);
  });
});
