/**
 * The behaviour v3 and v2 share, run against both paths into one gateway: v3 straight at /api/ws,
 * and v2 through the legacy adapter at /ws. A driver per path hides the two dialects.
 */
import type { Gateway } from '../../src/index.js';
import { mountLegacyAdapter, type LegacyAdapter } from '../../legacy-adapter/index.js';
import { startGateway } from '../support/gateway.js';
import { v2Driver, v3Driver, type RoomClient, type RoomDriver } from '../support/conformance-drivers.js';

let gw: Gateway;
let adapter: LegacyAdapter;
const members: RoomClient[] = [];

beforeEach(async () => {
  gw = await startGateway({ pingInterval: 0.3, pingTimeout: 0.3, heartbeatInterval: 1, sessionTtl: 30 });
  adapter = mountLegacyAdapter(gw);
});

afterEach(async () => {
  for (const m of members.splice(0)) m.kill();
  await adapter.close();
  await gw.close();
});

describe.each<[string, (gw: Gateway) => RoomDriver]>([
  ['v3 direct', v3Driver],
  ['v2 via adapter', v2Driver],
])('conformance: %s', (_path, makeDriver) => {
  const join = async (name: string): Promise<RoomClient> => {
    const m = await makeDriver(gw).join(name);
    members.push(m);
    return m;
  };

  it('presence: a newcomer sees who is there, the others see it join, and its leaving is seen', async () => {
    const ann = await join('Ann');
    expect(ann.initialNames).toEqual([]);
    const ben = await join('Ben');
    expect(ben.initialNames).toEqual(['Ann']);
    expect(await ann.nextJoin()).toEqual({ id: ben.id, name: 'Ben' });
    const cid = await join('Cid');
    expect(cid.initialNames.sort()).toEqual(['Ann', 'Ben']);
    await ben.nextJoin();
    await ben.leave();
    expect(await ann.nextLeave()).toBe(ben.id);
    expect(await cid.nextLeave()).toBe(ben.id);
  });

  it('broadcast: a line reaches every other member, with its sender, and not the sender itself', async () => {
    const ann = await join('Ann');
    const ben = await join('Ben');
    const cid = await join('Cid');
    ann.say('hello room');
    expect(await ben.nextChat()).toEqual({ from: ann.id, text: 'hello room' });
    expect(await cid.nextChat()).toEqual({ from: ann.id, text: 'hello room' });
    cid.say('second');
    // Ann's first line is Cid's, not an echo of her own.
    expect(await ann.nextChat()).toEqual({ from: cid.id, text: 'second' });
    expect(await ben.nextChat()).toEqual({ from: cid.id, text: 'second' });
  });
});

describe('conformance: both paths in one room', () => {
  it('v2 and v3 members see each other and hear each other', async () => {
    const v3 = await v3Driver(gw).join('Vera');
    members.push(v3);
    const v2 = await v2Driver(gw).join('Bob');
    members.push(v2);
    expect(v2.initialNames).toEqual(['Vera']);
    expect(await v3.nextJoin()).toEqual({ id: v2.id, name: 'Bob' });
    v2.say('from v2');
    expect(await v3.nextChat()).toEqual({ from: v2.id, text: 'from v2' });
    v3.say('from v3');
    expect(await v2.nextChat()).toEqual({ from: v3.id, text: 'from v3' });
    await v2.leave();
    expect(await v3.nextLeave()).toBe(v2.id);
  });
});
