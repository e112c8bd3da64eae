import { browser, type Element } from './browser-dom.js';
import type { CompactGraph } from './compact-graph.js';

const ms = (us: number) => `${(us / 1000).toFixed(us < 10_000 ? 2 : 1)} ms`;
const asName = (g: CompactGraph, as: number) => (as < 0 ? 'none known' : `AS${g.ases[as]!.asn}`);

/** Fills the info panel with a heading and term/value rows (text only: nothing from the data becomes markup). */
export function showInfo(panel: Element, title: string, rows: [string, string][]): void {
  const h = browser.document.createElement('h2');
  h.textContent = title;
  const dl = browser.document.createElement('dl');
  for (const [term, value] of rows) {
    const dt = browser.document.createElement('dt');
    dt.textContent = term;
    const dd = browser.document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  }
  panel.replaceChildren(h, dl);
  panel.hidden = false;
}

export function nodeRows(g: CompactGraph, i: number, degree: number): [string, string][] {
  const as = g.nodeAs[i]!;
  const country = g.nodeCountry[i]!;
  return [
    ['Address', g.nodes[i]!],
    ['AS', asName(g, as)],
    ['Organisation', as < 0 ? '' : (g.ases[as]!.org ?? '')],
    ['Country', country < 0 ? '' : g.countries[country]!],
    ['Links', String(degree)],
  ];
}

export function linkRows(g: CompactGraph, l: number): [string, string][] {
  return [
    ['From', `${g.nodes[g.near[l]!]} (${asName(g, g.nodeAs[g.near[l]!]!)})`],
    ['To', `${g.nodes[g.far[l]!]} (${asName(g, g.nodeAs[g.far[l]!]!)})`],
    ['RTT step', `min ${ms(g.deltaMinUs[l]!)}, mean ${ms(g.deltaMeanUs[l]!)}, max ${ms(g.deltaMaxUs[l]!)}`],
    ['Traces', String(g.count[l])],
  ];
}

export function asRows(g: CompactGraph, as: number, nodes: number): [string, string][] {
  return [
    ['AS', asName(g, as)],
    ['Organisation', as < 0 ? '' : (g.ases[as]!.org ?? '')],
    ['Addresses', String(nodes)],
  ];
}
