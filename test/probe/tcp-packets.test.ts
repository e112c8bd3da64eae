import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildTcpSyn, parseTcpSegment, tcpChecksumValid } from '../../src/probe/tcp-packets.js';

describe('TCP SYN probes', () => {
  it('carry a valid checksum over the pseudo-header and the fields we set', () => {
    const syn = buildTcpSyn({ src: '198.18.0.1', dst: '198.19.0.9', srcPort: 24001, dstPort: 443, seq: 0xfeedface });
    assert.ok(tcpChecksumValid(syn, '198.18.0.1', '198.19.0.9'));
    assert.ok(!tcpChecksumValid(syn, '198.18.0.2', '198.19.0.9'), 'the checksum covers the addresses');
    assert.equal(syn.readUInt16BE(0), 24001);
    assert.equal(syn.readUInt16BE(2), 443);
    assert.equal(syn.readUInt32BE(4), 0xfeedface);
    assert.equal(syn[13], 0x02);
  });

  it('parse a SYN-ACK as a raw socket receives it', () => {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip[8] = 61;
    ip[9] = 6;
    ip.set([198, 19, 0, 9], 12);
    const tcp = Buffer.alloc(20);
    tcp.writeUInt16BE(443, 0);
    tcp.writeUInt16BE(24001, 2);
    tcp.writeUInt32BE(7, 4);
    tcp.writeUInt32BE(0xfeedfacf, 8);
    tcp[13] = 0x12;
    assert.deepEqual(parseTcpSegment(Buffer.concat([ip, tcp])), {
      src: '198.19.0.9',
      srcPort: 443,
      dstPort: 24001,
      seq: 7,
      ack: 0xfeedfacf,
      syn: true,
      rst: false,
      ackFlag: true,
      ttl: 61,
    });
  });
});
