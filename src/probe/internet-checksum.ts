/** RFC 1071 ones'-complement sum of 16-bit words, folded; `checksum = ~sum`. */
export function onesComplementSum(buf: Buffer, start = 0, end = buf.length, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += buf.readUInt16BE(i);
  if (i < end) sum += buf[i]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(buf: Buffer, start = 0, end = buf.length): number {
  return ~onesComplementSum(buf, start, end) & 0xffff;
}
