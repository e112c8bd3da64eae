import type { Pool } from '../../db/create-pool.js';
import { DATA_ATTRIBUTION } from '../enrich/data-credit.js';
import { addressDetails } from '../graph/address-info.js';
import type { GraphFilter } from '../graph/graph-filter.js';
import { interfaceLinksPage, type LinkCursor } from '../graph/interface-graph.js';
import { countryPoint } from './country-points.js';
import { hopFeature, linkFeature } from './geojson-features.js';

/**
 * The interface graph as an RFC 7946 FeatureCollection, in chunks to write as they come: a Point per hop address
 * with a country, written before the first link that needs it, and a line per link whose two ends have one. It
 * walks the JSON API's keyset a page at a time, like the GraphML export, so neither the graph nor a transaction
 * is held for the length of a download; only each address's country is remembered (to place later links).
 */
export async function* interfaceGeojson(pool: Pool, f: GraphFilter, pageSize: number): AsyncGenerator<string> {
  // The credit of the country and AS data, as a foreign member (RFC 7946 section 6.1).
  yield `{"type":"FeatureCollection","attribution":${JSON.stringify(DATA_ATTRIBUTION)},"features":[`;
  const countryOf = new Map<string, string | null>();
  let first = true;
  let after: LinkCursor | undefined;
  for (;;) {
    const links = await interfaceLinksPage(pool, f, pageSize, after);
    const details = await addressDetails(
      pool,
      [...new Set(links.flatMap((l) => [l.near, l.far]))].filter((a) => !countryOf.has(a)),
    );
    const features: string[] = [];
    const place = (address: string) => {
      if (!countryOf.has(address)) {
        const d = details.get(address);
        const at = d?.country ? countryPoint(d.country) : null;
        countryOf.set(address, at ? d!.country : null);
        if (at) features.push(JSON.stringify(hopFeature(address, d!, at)));
      }
      const country = countryOf.get(address);
      return country ? { country, at: countryPoint(country)! } : null;
    };
    for (const l of links) {
      const near = place(l.near);
      const far = place(l.far);
      if (near && far) features.push(JSON.stringify(linkFeature(l, near, far)));
    }
    if (features.length) {
      yield (first ? '' : ',') + features.join(',');
      first = false;
    }
    if (links.length < pageSize) break;
    after = links.at(-1)!;
  }
  yield ']}';
}
