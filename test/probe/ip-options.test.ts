import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildPrespecifiedTimestamp,
  buildRecordRoute,
  ipIdOf,
  parseIpOptions,
  quotedOptions,
  receivedOptions,
  type IpOptions,
} from '../../src/probe/ip-options.js';

/**
 * Packets captured with tcpdump on the lab chain probe(198.18.0.1) - r1(.2|.5) - r2 silent(.6|.9) -
 * r3(.10|.13) - r4(.14|.17) - target(198.19.1.1), sent by iputils ping -R and ping -T tsprespec.
 */
const PACKETS = {
  tsRequest:
    '4a000068f22c40004001e1e1c6120001c612000d44140503c612000d00000000c612000a0000000008004a8d317a0001c60c0e6b00000000e3ac050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  tsReply:
    '4a000068eb5a00003e01eaaac612000dc612000144141503c612000d052192e3c612000a052192e30000528d317a0001c60c0e6b00000000e3ac050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  rrRequestTtl3:
    '4f00007c46f340000301ab43c6120001c613010101072708c6120001000000000000000000000000000000000000000000000000000000000000000008000782317b0001c60c0e6b0000000026b7050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  rrTimeExceededTtl3:
    '4fc000c0e21200003e012da9c612000ac6120001072720c6120001c6120005c6120009c612000ac612000ac6120006c61200020000000000000000000b002edf000000004f00007c46f3400001012108c6120001c613010101072714c6120001c6120005c6120009c612000a000000000000000000000000000000000000000008000782317b0001c60c0e6b0000000026b7050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  rrTimeExceededTtl1:
    '4fc000c0a65300004001e888c6120002c6120001072710c6120001c6120002c6120002000000000000000000000000000000000000000000000000000b002ee7000000004f00007c46f440000101ad42c6120001c61301010107270cc6120001c6120002000000000000000000000000000000000000000000000000000000000800b576317c0001c60c0e6b0000000078c1050000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  rrEchoReply:
    '4f00007cb07f00003c0115bac6130101c6120001072728c6120001c6120005c6120009c612000dc6120011c6130101c6130101c612000ec612000a0000006066443b0001400d0e6b000000004c12020000000000101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
};
const packet = (name: keyof typeof PACKETS) => Buffer.from(PACKETS[name], 'hex');
const A = (n: number) => `198.18.0.${n}`;

describe('building IP options', () => {
  it('record route: the 40 bytes ping -R sends, NOP then nine empty slots', () => {
    const sent = packet('rrRequestTtl3').subarray(20, 60);
    const expected = Buffer.from(sent);
    // The kernel stamped the sender into the first slot and moved the pointer past it.
    expected.fill(0, 4, 8);
    expected[3] = 4;
    assert.deepEqual(buildRecordRoute(), expected);
    assert.equal(buildRecordRoute(2).length % 4, 0);
    assert.throws(() => buildRecordRoute(10), /1 to 9/);
  });

  it('prespecified timestamps: the option ping -T tsprespec sends', () => {
    assert.deepEqual(buildPrespecifiedTimestamp([A(13), A(10)]), packet('tsRequest').subarray(20, 40));
    assert.equal(buildPrespecifiedTimestamp([A(1), A(2), A(3), A(4)]).length, 36);
    assert.throws(() => buildPrespecifiedTimestamp([A(1), A(2), A(3), A(4), A(5)]), /1 to 4/);
    assert.throws(() => buildPrespecifiedTimestamp(['198.18.0']), /not an IPv4 address/);
  });
});

describe('parsing IP options', () => {
  const cases: Array<{ name: string; parse: () => IpOptions; expected: IpOptions }> = [
    {
      name: 'a record route as sent: only the sender stamped',
      parse: () => receivedOptions(packet('rrRequestTtl3')),
      expected: { recordRoute: [A(1)] },
    },
    {
      name: 'the header quoted by the router at TTL 3: the outbound stamps of r1 and silent r2, then its own inbound address',
      parse: () => quotedOptions(packet('rrTimeExceededTtl3')),
      expected: { recordRoute: [A(1), A(5), A(9), A(10)] },
    },
    {
      name: "the time exceeded's own header: the kernel echoes the option and the return path stamps it",
      parse: () => receivedOptions(packet('rrTimeExceededTtl3')),
      expected: { recordRoute: [A(1), A(5), A(9), A(10), A(10), A(6), A(2)] },
    },
    {
      name: 'the header quoted at TTL 1',
      parse: () => quotedOptions(packet('rrTimeExceededTtl1')),
      expected: { recordRoute: [A(1), A(2)] },
    },
    {
      name: 'the echo reply of the destination: forward stamps, the destination twice, then the return path until full',
      parse: () => receivedOptions(packet('rrEchoReply')),
      expected: { recordRoute: [A(1), A(5), A(9), A(13), A(17), '198.19.1.1', '198.19.1.1', A(14), A(10)] },
    },
    { name: 'an echo reply quotes nothing', parse: () => quotedOptions(packet('rrEchoReply')), expected: {} },
    {
      name: 'prespecified timestamps as sent: nothing stamped',
      parse: () => receivedOptions(packet('tsRequest')),
      expected: {
        timestamps: [
          { address: A(13), stamped: false, time: 0 },
          { address: A(10), stamped: false, time: 0 },
        ],
      },
    },
    {
      name: 'the reply of r3 asked [.13, .10]: one router, both stamped',
      parse: () => receivedOptions(packet('tsReply')),
      expected: {
        timestamps: [
          { address: A(13), stamped: true, time: 0x052192e3 },
          { address: A(10), stamped: true, time: 0x052192e3 },
        ],
      },
    },
    {
      name: 'one entry stamped of two (pointer 13)',
      parse: () => parseIpOptions(Buffer.from('44140d03c612000d00000007c612000200000000', 'hex')),
      expected: {
        timestamps: [
          { address: A(13), stamped: true, time: 7 },
          { address: A(2), stamped: false, time: 0 },
        ],
      },
    },
    {
      name: 'timestamps without prespecified addresses are ignored',
      parse: () => parseIpOptions(Buffer.from('440c0500000000000000000000', 'hex')),
      expected: {},
    },
    {
      name: 'a truncated option stops the parse',
      parse: () => parseIpOptions(Buffer.from('0107270000', 'hex')),
      expected: {},
    },
    { name: 'no options', parse: () => parseIpOptions(Buffer.alloc(0)), expected: {} },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(c.parse(), c.expected));

  it('reads the IP identification of a packet', () => {
    assert.equal(ipIdOf(packet('tsReply')), 0xeb5a);
  });
});
