/**
 * What an account's disable and deletion do to shares and links (lambda/sharing/share-lifecycle.ts),
 * on in-memory stores: disable cuts off only the shares the user gave and keeps every record;
 * deletion cuts off what the user gave and received, then removes those shares and the user's
 * links, each cut off while it still existed; other users' shares and links are untouched.
 */
import { parseUsername } from '../../lambda/accounts/username';
import { SharingLifecycle } from '../../lambda/sharing/share-lifecycle';
import { MemoryLinkStore, MemoryShareStore, RecordingShareCutOff } from '../support/memory-share-lifecycle';

const alice = parseUsername('alice');
const bob = parseUsername('bob');
const carol = parseUsername('carol');

function setup() {
  const shares = new MemoryShareStore();
  const links = new MemoryLinkStore();
  const cutOff = new RecordingShareCutOff(() => [...shares.shares.keys()]);
  return { shares, links, cutOff, lifecycle: new SharingLifecycle({ shares, links, cutOff }) };
}

describe('SharingLifecycle', () => {
  it('disable: cuts off every share alice gave, none she received, and keeps every record', async () => {
    const s = setup();
    const toBob = s.shares.add(alice, bob);
    const toCarol = s.shares.add(alice, carol);
    s.shares.add(carol, alice);
    s.shares.add(bob, carol);
    s.links.add(alice);
    expect(await s.lifecycle.cutOffGiven(alice)).toBe(2);
    expect(s.cutOff.ids.sort()).toEqual([toBob.id, toCarol.id].sort());
    expect(s.shares.shares.size).toBe(4);
    expect(s.links.links.size).toBe(1);
  });

  it('delete: cuts off the shares alice gave and received, then removes them and her links; bob and carol keep theirs', async () => {
    const s = setup();
    const given = s.shares.add(alice, bob);
    const received = s.shares.add(carol, alice);
    const others = s.shares.add(bob, carol);
    s.links.add(alice);
    s.links.add(alice);
    const bobsLink = s.links.add(bob);

    expect(await s.lifecycle.cutOffAll(alice)).toBe(2);
    expect(s.cutOff.ids.sort()).toEqual([given.id, received.id].sort());
    expect(s.shares.shares.size).toBe(3);

    expect(await s.lifecycle.removeAll(alice)).toEqual({ given: 1, received: 1, links: 2 });
    expect([...s.shares.shares.keys()]).toEqual([others.id]);
    expect([...s.links.links.keys()]).toEqual([bobsLink.id]);
    // The removal cut them off again first, while they were still there.
    expect(s.cutOff.presentAtCall.at(-1)).toEqual(expect.arrayContaining([given.id, received.id]));
  });

  it('delete: a user with no shares or links asks no cut-off and removes nothing', async () => {
    const s = setup();
    expect(await s.lifecycle.cutOffAll(alice)).toBe(0);
    expect(await s.lifecycle.removeAll(alice)).toEqual({ given: 0, received: 0, links: 0 });
    expect(s.cutOff.ids).toEqual([]);
  });
});
