/** GraphML (http://graphml.graphdrawing.org/), the format Gephi, yEd and networkx read, written in pieces to stream. */

export type GraphmlType = 'string' | 'long' | 'double';
export interface GraphmlKey {
  id: string;
  for: 'node' | 'edge';
  type: GraphmlType;
}

const escapeXml = (s: string) => s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The document's start: `desc` (such as the data's credit) is the `<desc>` GraphML allows before the keys. */
export function graphmlHead(keys: GraphmlKey[], desc?: string): string {
  const declared = keys
    .map((k) => `  <key id="${k.id}" for="${k.for}" attr.name="${k.id}" attr.type="${k.type}"/>\n`)
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<graphml xmlns="http://graphml.graphdrawing.org/xmlns" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
  xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">
${desc === undefined ? '' : `  <desc>${escapeXml(desc)}</desc>\n`}${declared}  <graph id="hopmap" edgedefault="directed">
`;
}

export const graphmlTail = '  </graph>\n</graphml>\n';

type Data = Record<string, string | number | Date | null | undefined>;

function dataOf(data: Data): string {
  let out = '';
  for (const [key, v] of Object.entries(data)) {
    if (v === null || v === undefined) continue;
    out += `<data key="${key}">${escapeXml(v instanceof Date ? v.toISOString() : String(v))}</data>`;
  }
  return out;
}

export const graphmlNode = (id: string, data: Data) => `    <node id="${escapeXml(id)}">${dataOf(data)}</node>\n`;

export const graphmlEdge = (source: string, target: string, data: Data) =>
  `    <edge source="${escapeXml(source)}" target="${escapeXml(target)}">${dataOf(data)}</edge>\n`;
