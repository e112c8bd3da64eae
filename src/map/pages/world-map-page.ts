import { whereAlpha2 } from 'iso-3166-1';
import { html, Html } from '../../web/html.js';
import { layout, type PageContext } from '../../web/layout.js';
import { dataCreditHtml } from '../enrich/data-credit.js';
import { countryPoint } from '../geo/country-points.js';
import { MAP_HEIGHT, MAP_WIDTH, projectPoint, svgPath, worldOutline } from '../geo/world-projection.js';
import type { CountryHops, CountryLink } from './world-map-queries.js';

/** A country's marker colour names its dominant AS (one of these by AS number); none of them is in the base map. */
export const MARKER_COLOURS = [
  '#e15759',
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#b07aa1',
  '#edc948',
  '#76b7b2',
  '#ff9da7',
  '#9c755f',
] as const;
export const NO_AS_COLOUR = '#6b7280';
export const markerColour = (asn: number | null) =>
  asn === null ? NO_AS_COLOUR : MARKER_COLOURS[asn % MARKER_COLOURS.length]!;
/** Marker radius in map units: by area, so a country with 4× the hops has a marker of 4× the area. */
export const markerRadius = (hops: number, maxHops: number) => 4 + 14 * Math.sqrt(hops / Math.max(1, maxHops));

let base: Html | undefined;

/** The globe and the countries, the same for every request: rendered once. */
function baseMap(): Html {
  if (base) return base;
  const w = worldOutline();
  base = html`<path d="${w.sphere}" fill="#eaf1f8" stroke="#c5d3e0"/><g fill="#d4d9e0" stroke="#ffffff" stroke-width="0.5">${w.countries.map((c) => html`<path d="${c.d}"><title>${c.name}</title></path>`)}</g>`;
  return base;
}

const countryName = (code: string) => whereAlpha2(code)?.country ?? code;

/**
 * GET /world: the world map of hops as an inline SVG, drawn on the server from world-atlas with d3-geo (nothing
 * fetched by the browser; the CSP allows no inline script or style, so only SVG presentation attributes). One
 * marker per country at its representative point, links between countries as great-circle arcs.
 */
export function renderWorldMapPage(
  ctx: PageContext,
  d: { countries: CountryHops[]; unplaced: number; links: CountryLink[]; linkLimit: number },
): string {
  const placed = d.countries.filter((c) => countryPoint(c.country));
  const maxHops = Math.max(1, ...placed.map((c) => c.hops));
  const maxCount = Math.max(1, ...d.links.map((l) => l.count));
  const arcs = d.links.flatMap((l) => {
    const a = countryPoint(l.a);
    const b = countryPoint(l.b);
    if (!a || !b) return [];
    const width = (0.6 + 2.4 * Math.sqrt(l.count / maxCount)).toFixed(1);
    return [
      html`<path d="${svgPath({ type: 'LineString', coordinates: [a, b] })}" stroke-width="${width}"><title>${countryName(l.a)} – ${countryName(l.b)}: ${l.links} links, ${l.count} traces</title></path>`,
    ];
  });
  // Largest first, so a small country's marker stays visible over a large neighbour's.
  const markers = [...placed]
    .sort((x, y) => y.hops - x.hops)
    .map((c) => {
      const [x, y] = projectPoint(countryPoint(c.country)!);
      const as =
        c.dominant_asn === null
          ? 'no AS known'
          : `most in AS${c.dominant_asn}${c.dominant_as_org ? ` ${c.dominant_as_org}` : ''} (${c.dominant_hops})`;
      return html`<circle class="country-hops" data-country="${c.country}" cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${markerRadius(c.hops, maxHops).toFixed(1)}" fill="${markerColour(c.dominant_asn)}"><title>${countryName(c.country)} (${c.country}): ${c.hops} hop address${c.hops === 1 ? '' : 'es'}, ${as}</title></circle>`;
    });
  const svg = html`<svg class="world-map" viewBox="0 0 ${MAP_WIDTH} ${MAP_HEIGHT}" width="100%" role="img" aria-label="World map of hop addresses by country">
${baseMap()}<g fill="none" stroke="#2f3e4e" stroke-opacity="0.5" stroke-linecap="round">${arcs}</g><g stroke="#ffffff" stroke-width="1">${markers}</g></svg>`;

  const offMap = d.countries.length - placed.length;
  const rows = d.countries.map(
    (c) =>
      html`<tr><td>${countryName(c.country)} (${c.country})${countryPoint(c.country) ? '' : ' (not on the map)'}</td><td>${c.hops}</td><td>${c.dominant_asn === null ? '' : `AS${c.dominant_asn} ${c.dominant_as_org ?? ''}`}</td></tr>`,
  );
  const total = d.countries.reduce((n, c) => n + c.hops, 0);
  const body = html`<p>Hop addresses by the country enrichment gives them (DB-IP Lite), each country's at one representative point inside it: the location is a country, never a city. Lines join countries that a link crosses${d.links.length === d.linkLimit ? html` (the ${d.linkLimit} most crossed pairs)` : ''}; a marker's colour is the AS most of its hops are in.</p>
<div class="world-map">${svg}<p class="map-caption">${total} hop address${total === 1 ? '' : 'es'} in ${d.countries.length} countr${d.countries.length === 1 ? 'y' : 'ies'}${offMap ? ` (${offMap} without a shape on the map)` : ''}; ${d.unplaced} without a country (private, unannounced or not yet enriched); ${arcs.length} country pair${arcs.length === 1 ? '' : 's'} linked.</p></div>
<table class="countries"><thead><tr><th>Country</th><th>Hops</th><th>Dominant AS</th></tr></thead><tbody>${rows}</tbody></table>`;
  return layout({ ...ctx, footer: dataCreditHtml() }, body);
}
