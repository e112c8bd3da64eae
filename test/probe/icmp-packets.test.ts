import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildEchoRequest, parseIcmpPacket, ICMP_TIME_EXCEEDED } from '../../src/probe/icmp-packets.js';
import { internetChecksum } from '../../src/probe/internet-checksum.js';

function ipHeader(src: string, dst: string, protocol: number, ttl: number, payloadLength: number, id = 0x1234): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payloadLength, 2);
  h.writeUInt16BE(id, 4);
  h[8] = ttl;
  h[9] = protocol;
  src.split('.').forEach((o, i) => (h[12 + i] = Number(o)));
  dst.split('.').forEach((o, i) => (h[16 + i] = Number(o)));
  h.writeUInt16BE(internetChecksum(h), 10);
  return h;
}

describe('ICMP echo requests', () => {
  it('carry a valid checksum', () => {
    for (const seq of [0, 1, 255, 65535]) assert.equal(internetChecksum(buildEchoRequest({ id: 0xbeef, seq })), 0);
  });

  it('keep a chosen checksum constant across sequence numbers (Paris traceroute), still valid', () => {
    for (const checksum of [0x0001, 0x1234, 0xabcd, 0xfffe]) {
      for (const seq of [0, 1, 2, 30, 4097, 65535]) {
        const pkt = buildEchoRequest({ id: 0x4242, seq, checksum, payloadSize: 24 });
        assert.equal(pkt.readUInt16BE(2), checksum);
        assert.equal(pkt.readUInt16BE(6), seq);
        assert.equal(internetChecksum(pkt), 0, `checksum ${checksum.toString(16)} seq ${seq}`);
      }
    }
  });
});

describe('parsing what the raw socket receives', () => {
  it('reads an echo reply: sender, reply TTL, id and sequence', () => {
    const icmp = Buffer.from([0, 0, 0, 0, 0x42, 0x42, 0x00, 0x07, 1, 2, 3, 4]);
    const msg = parseIcmpPacket(Buffer.concat([ipHeader('198.19.0.9', '198.18.0.1', 1, 61, icmp.length), icmp]));
    assert.deepEqual(msg, { from: '198.19.0.9', replyTtl: 61, type: 0, code: 0, echo: { id: 0x4242, seq: 7 } });
  });

  it('reads a time-exceeded that quotes an ICMP probe', () => {
    const probe = buildEchoRequest({ id: 0x4242, seq: 3, checksum: 0x1234 });
    const quoted = Buffer.concat([
      ipHeader('198.18.0.1', '198.19.0.9', 1, 1, probe.length, 0x0abc),
      probe.subarray(0, 8),
    ]);
    const icmp = Buffer.concat([Buffer.from([ICMP_TIME_EXCEEDED, 0, 0, 0, 0, 0, 0, 0]), quoted]);
    const msg = parseIcmpPacket(Buffer.concat([ipHeader('198.18.0.2', '198.18.0.1', 1, 64, icmp.length), icmp]));
    assert.deepEqual(msg?.quoted, {
      dst: '198.19.0.9',
      protocol: 1,
      ipId: 0x0abc,
      ttl: 1,
      icmp: { checksum: 0x1234, id: 0x4242, seq: 3 },
    });
    assert.equal(msg?.from, '198.18.0.2');
    assert.equal(msg?.mpls, undefined);
  });

  it('reads the quoted ports and sequence of a TCP probe, and an RFC 4950 MPLS label stack', () => {
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(40001, 0);
    tcp.writeUInt16BE(443, 2);
    tcp.writeUInt32BE(0xdeadbeef, 4);
    // RFC 4884: quoted datagram padded to 128 bytes (length field = 32 words), then the extension.
    const quoted = Buffer.alloc(128);
    Buffer.concat([ipHeader('198.18.0.1', '198.19.0.9', 6, 1, 20), tcp]).copy(quoted);
    const label = (16005 << 12) | (0 << 9) | (1 << 8) | 254;
    const ext = Buffer.alloc(12);
    ext[0] = 0x20;
    ext.writeUInt16BE(8, 4);
    ext[6] = 1;
    ext[7] = 1;
    ext.writeUInt32BE(label >>> 0, 8);
    const icmp = Buffer.concat([Buffer.from([ICMP_TIME_EXCEEDED, 0, 0, 0, 0, 32, 0, 0]), quoted, ext]);
    const msg = parseIcmpPacket(Buffer.concat([ipHeader('198.18.0.6', '198.18.0.1', 1, 250, icmp.length), icmp]));
    assert.deepEqual(msg?.quoted?.ports, { src: 40001, dst: 443 });
    assert.equal(msg?.quoted?.tcpSeq, 0xdeadbeef);
    assert.deepEqual(msg?.mpls, [{ label: 16005, exp: 0, bottom: true, ttl: 254 }]);
  });

  it('ignores what is not IPv4 ICMP', () => {
    assert.equal(parseIcmpPacket(Buffer.alloc(10)), undefined);
    assert.equal(
      parseIcmpPacket(Buffer.concat([ipHeader('1.1.1.1', '2.2.2.2', 17, 64, 8), Buffer.alloc(8)])),
      undefined,
    );
  });
});
