import type { WebPluginFactory } from '../../web/web-plugin.js';
import { pageContext } from '../../web/page-context.js';
import { renderWorldMapPage } from './world-map-page.js';
import { hopsByCountry, linksBetweenCountries } from './world-map-queries.js';

/** Arcs drawn at most: past a few hundred the map is ink and the page grows by ~150 bytes an arc. */
const MAX_COUNTRY_LINKS = 500;

/** GET /world: the world map of hops by country for a signed-in operator, an SVG drawn on the server. */
export const worldMapPlugin: WebPluginFactory = ({ pool, requireUserPage }) => ({
  routes(app) {
    app.get('/world', requireUserPage, async (_req, res) => {
      const [{ countries, unplaced }, links] = await Promise.all([
        hopsByCountry(pool),
        linksBetweenCountries(pool, MAX_COUNTRY_LINKS),
      ]);
      res.type('html').send(
        renderWorldMapPage(pageContext(res, 'World map'), {
          countries,
          unplaced,
          links,
          linkLimit: MAX_COUNTRY_LINKS,
        }),
      );
    });
  },
});
