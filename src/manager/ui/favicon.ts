/**
 * The manager's icon. Pages link /static/favicon.svg (`<link rel="icon">` in src/web/layout.ts); /favicon.ico is
 * what a browser asks for where no page says (a JSON answer opened in a tab, a bookmark) and what tools that
 * predate SVG icons read. It answers the same drawing as a 16x16 ICO, rasterised here from the SVG's shapes so no
 * binary file sits in the tree.
 */

type Rgba = [number, number, number, number];

const SIZE = 16;
const BACKGROUND: Rgba = [0x1d, 0x23, 0x30, 255];
const PATH: Rgba = [0x7f, 0xb2, 0xff, 255];
const HOP: Rgba = [255, 255, 255, 255];
/** The path of favicon.svg: three hops joined by two links. */
const HOPS: Array<[number, number]> = [
  [3, 12],
  [8, 5],
  [13, 11],
];

function distanceToSegment(px: number, py: number, [ax, ay]: [number, number], [bx, by]: [number, number]): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

/** The colour at a point of the 16x16 drawing, or undefined outside its rounded square. */
function colourAt(x: number, y: number): Rgba | undefined {
  const r = 3;
  const cx = Math.min(Math.max(x, r), SIZE - r);
  const cy = Math.min(Math.max(y, r), SIZE - r);
  if (Math.hypot(x - cx, y - cy) > r) return undefined;
  if (HOPS.some(([hx, hy]) => Math.hypot(x - hx, y - hy) <= 2)) return HOP;
  if (distanceToSegment(x, y, HOPS[0]!, HOPS[1]!) <= 0.75 || distanceToSegment(x, y, HOPS[1]!, HOPS[2]!) <= 0.75)
    return PATH;
  return BACKGROUND;
}

/** Each pixel averaged over 4x4 samples, so edges are smooth as the SVG's. */
function pixel(x: number, y: number): Rgba {
  const sum = [0, 0, 0, 0];
  const n = 4;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      const c = colourAt(x + (i + 0.5) / n, y + (j + 0.5) / n);
      if (!c) continue;
      for (let k = 0; k < 3; k++) sum[k]! += c[k]! * c[3];
      sum[3]! += c[3];
    }
  const alpha = sum[3]!;
  if (alpha === 0) return [0, 0, 0, 0];
  return [sum[0]! / alpha, sum[1]! / alpha, sum[2]! / alpha, alpha / (n * n)].map(Math.round) as Rgba;
}

/** An ICO file with one 16x16 32-bit image (BITMAPINFOHEADER, BGRA rows bottom-up, an all-zero AND mask). */
export function faviconIco(): Buffer {
  const pixels = SIZE * SIZE * 4;
  const mask = SIZE * 4; // 1 bit per pixel, each row padded to 32 bits
  const image = 40 + pixels + mask;
  const out = Buffer.alloc(6 + 16 + image);
  out.writeUInt16LE(0, 0);
  out.writeUInt16LE(1, 2); // an icon
  out.writeUInt16LE(1, 4); // one image
  out.writeUInt8(SIZE, 6);
  out.writeUInt8(SIZE, 7);
  out.writeUInt16LE(1, 10); // planes
  out.writeUInt16LE(32, 12); // bits per pixel
  out.writeUInt32LE(image, 14);
  out.writeUInt32LE(22, 18); // where the image starts
  out.writeUInt32LE(40, 22);
  out.writeInt32LE(SIZE, 26);
  out.writeInt32LE(SIZE * 2, 30); // the colour rows and the mask rows
  out.writeUInt16LE(1, 34);
  out.writeUInt16LE(32, 36);
  out.writeUInt32LE(pixels + mask, 42);
  let at = 22 + 40;
  for (let y = SIZE - 1; y >= 0; y--)
    for (let x = 0; x < SIZE; x++) {
      const [r, g, b, a] = pixel(x, y);
      out.writeUInt8(b, at++);
      out.writeUInt8(g, at++);
      out.writeUInt8(r, at++);
      out.writeUInt8(a, at++);
    }
  return out;
}
