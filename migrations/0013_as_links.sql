CREATE TABLE "as_links" (
	"near_asn" bigint NOT NULL,
	"far_asn" bigint NOT NULL,
	"near_org" text,
	"far_org" text,
	"links" bigint NOT NULL,
	"count" bigint NOT NULL,
	"delta_sum_us" double precision NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "as_links_state" (
	"one" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"stale" boolean NOT NULL,
	"rebuilt_at" timestamp with time zone,
	CONSTRAINT "as_links_state_one_row_check" CHECK ("as_links_state"."one")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "as_links_pair_idx" ON "as_links" USING btree ("near_asn","far_asn");--> statement-breakpoint
-- Hand-written: drizzle cannot express functions and triggers.
-- as_links holds the AS graph (src/map/graph/as-graph.ts) so a request reads a row per AS pair instead of
-- joining every link with address_info twice (2-3 s at 1,000,000 links). An address counts when address_info
-- has it with an AS (the test the direct query makes). Statement triggers add what each change to links
-- or address_info adds; a change that would have to take away (an address leaving its AS or changing its
-- organisation, a delete, a truncate) cannot keep min/max exact, so it marks the table stale instead, readers
-- aggregate directly, and as_links_rebuild() (the output service's rebuild_as_links job) recomputes it.
-- Locks: link triggers take ROW EXCLUSIVE on as_links (ingesters run side by side), address_info triggers SHARE
-- ROW EXCLUSIVE (an enrichment waits for the ingest transactions in flight and holds new ones back until it
-- commits, so a new link and the enrichment of its end never miss each other), a rebuild EXCLUSIVE.
INSERT INTO "as_links_state" ("one", "stale") VALUES (true, true);
--> statement-breakpoint
CREATE FUNCTION as_links_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE as_links IN EXCLUSIVE MODE;
  DELETE FROM as_links;
  INSERT INTO as_links (near_asn, far_asn, near_org, far_org, links, count, delta_sum_us, first_seen_at, last_seen_at)
  SELECT na.asn, fa.asn, max(na.as_org), max(fa.as_org), count(*), sum(l.count), sum(l.delta_sum_us), min(l.first_seen_at), max(l.last_seen_at)
    FROM links l
    JOIN address_info na ON na.address = l.near
    JOIN address_info fa ON fa.address = l.far
   WHERE na.asn IS NOT NULL AND fa.asn IS NOT NULL
   GROUP BY na.asn, fa.asn;
  UPDATE as_links_state SET stale = false, rebuilt_at = now();
END
$$;
--> statement-breakpoint
SELECT as_links_rebuild();
--> statement-breakpoint
CREATE FUNCTION as_links_mark_stale() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE as_links IN SHARE ROW EXCLUSIVE MODE;
  UPDATE as_links_state SET stale = true WHERE NOT stale;
END
$$;
--> statement-breakpoint
-- Adds the links with an end in `addresses` (which just gained their AS) to their AS pairs. `links` has no index on
-- `far`: that half is one hash join over a scan of links, once per enrichment statement that gives addresses an AS.
CREATE FUNCTION as_links_add_links_of(addresses inet[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- A bulk load (the first enrichment of a database full of links) costs less recomputed whole.
  IF cardinality(addresses) > 100000 THEN
    PERFORM as_links_rebuild();
    RETURN;
  END IF;
  INSERT INTO as_links AS a (near_asn, far_asn, near_org, far_org, links, count, delta_sum_us, first_seen_at, last_seen_at)
  SELECT na.asn, fa.asn, max(na.as_org), max(fa.as_org), count(*), sum(l.count), sum(l.delta_sum_us), min(l.first_seen_at), max(l.last_seen_at)
    FROM (SELECT l.near, l.far FROM unnest(addresses) g(address) JOIN links l ON l.near = g.address
          UNION
          SELECT l.near, l.far FROM unnest(addresses) g(address) JOIN links l ON l.far = g.address) t
    JOIN links l ON l.near = t.near AND l.far = t.far
    JOIN address_info na ON na.address = l.near
    JOIN address_info fa ON fa.address = l.far
   WHERE na.asn IS NOT NULL AND fa.asn IS NOT NULL
   GROUP BY na.asn, fa.asn
   ORDER BY na.asn, fa.asn
  ON CONFLICT (near_asn, far_asn) DO UPDATE SET
    near_org = greatest(a.near_org, excluded.near_org), far_org = greatest(a.far_org, excluded.far_org),
    links = a.links + excluded.links, count = a.count + excluded.count, delta_sum_us = a.delta_sum_us + excluded.delta_sum_us,
    first_seen_at = least(a.first_seen_at, excluded.first_seen_at), last_seen_at = greatest(a.last_seen_at, excluded.last_seen_at);
END
$$;
--> statement-breakpoint
-- New links: each adds itself to its AS pair.
CREATE FUNCTION as_links_links_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE as_links IN ROW EXCLUSIVE MODE;
  IF (SELECT stale FROM as_links_state) THEN RETURN NULL; END IF;
  INSERT INTO as_links AS a (near_asn, far_asn, near_org, far_org, links, count, delta_sum_us, first_seen_at, last_seen_at)
  SELECT na.asn, fa.asn, max(na.as_org), max(fa.as_org), count(*), sum(n.count), sum(n.delta_sum_us), min(n.first_seen_at), max(n.last_seen_at)
    FROM new_links n
    JOIN address_info na ON na.address = n.near
    JOIN address_info fa ON fa.address = n.far
   WHERE na.asn IS NOT NULL AND fa.asn IS NOT NULL
   GROUP BY na.asn, fa.asn
   ORDER BY na.asn, fa.asn -- one order for every writer: no deadlocks between ingesters
  ON CONFLICT (near_asn, far_asn) DO UPDATE SET
    near_org = greatest(a.near_org, excluded.near_org), far_org = greatest(a.far_org, excluded.far_org),
    links = a.links + excluded.links, count = a.count + excluded.count, delta_sum_us = a.delta_sum_us + excluded.delta_sum_us,
    first_seen_at = least(a.first_seen_at, excluded.first_seen_at), last_seen_at = greatest(a.last_seen_at, excluded.last_seen_at);
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Links seen again (the ingest's upsert): what their counts and sums grew by; their times only widen.
CREATE FUNCTION as_links_links_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE as_links IN ROW EXCLUSIVE MODE;
  IF (SELECT stale FROM as_links_state) THEN RETURN NULL; END IF;
  IF EXISTS (SELECT 1 FROM old_links o LEFT JOIN new_links n USING (near, far) WHERE n.near IS NULL) THEN
    PERFORM as_links_mark_stale();
    RETURN NULL;
  END IF;
  INSERT INTO as_links AS a (near_asn, far_asn, near_org, far_org, links, count, delta_sum_us, first_seen_at, last_seen_at)
  SELECT na.asn, fa.asn, max(na.as_org), max(fa.as_org), 0, sum(n.count - o.count), sum(n.delta_sum_us - o.delta_sum_us), min(n.first_seen_at), max(n.last_seen_at)
    FROM new_links n
    JOIN old_links o USING (near, far)
    JOIN address_info na ON na.address = n.near
    JOIN address_info fa ON fa.address = n.far
   WHERE na.asn IS NOT NULL AND fa.asn IS NOT NULL
   GROUP BY na.asn, fa.asn
   ORDER BY na.asn, fa.asn
  ON CONFLICT (near_asn, far_asn) DO UPDATE SET
    links = a.links + excluded.links, count = a.count + excluded.count, delta_sum_us = a.delta_sum_us + excluded.delta_sum_us,
    first_seen_at = least(a.first_seen_at, excluded.first_seen_at), last_seen_at = greatest(a.last_seen_at, excluded.last_seen_at);
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION as_links_links_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_links) THEN PERFORM as_links_mark_stale(); END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Enrichment: addresses that gained an AS complete links, which join their AS pairs.
CREATE FUNCTION as_links_address_info_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_info WHERE asn IS NOT NULL) THEN RETURN NULL; END IF;
  LOCK TABLE as_links IN SHARE ROW EXCLUSIVE MODE;
  IF (SELECT stale FROM as_links_state) THEN RETURN NULL; END IF;
  PERFORM as_links_add_links_of(array(SELECT address FROM new_info WHERE asn IS NOT NULL));
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- Re-enrichment: an address that gains an AS is added as above; one that loses or changes its AS or organisation
-- would have to be taken away, so that marks the table stale.
CREATE FUNCTION as_links_address_info_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (
    SELECT 1 FROM new_info n JOIN old_info o USING (address)
     WHERE n.asn IS DISTINCT FROM o.asn
        OR (n.asn IS NOT NULL AND n.as_org IS DISTINCT FROM o.as_org)) THEN
    RETURN NULL;
  END IF;
  LOCK TABLE as_links IN SHARE ROW EXCLUSIVE MODE;
  IF (SELECT stale FROM as_links_state) THEN RETURN NULL; END IF;
  IF EXISTS (SELECT 1 FROM old_info o LEFT JOIN new_info n USING (address) WHERE o.asn IS NOT NULL
               AND (n.address IS NULL OR n.asn IS DISTINCT FROM o.asn OR n.as_org IS DISTINCT FROM o.as_org)) THEN
    PERFORM as_links_mark_stale();
    RETURN NULL;
  END IF;
  PERFORM as_links_add_links_of(array(
    SELECT n.address FROM new_info n JOIN old_info o USING (address)
     WHERE n.asn IS NOT NULL AND NOT (o.asn IS NOT NULL)));
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION as_links_address_info_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_info WHERE asn IS NOT NULL) THEN PERFORM as_links_mark_stale(); END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE FUNCTION as_links_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM as_links_mark_stale();
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER as_links_links_inserted AFTER INSERT ON links REFERENCING NEW TABLE AS new_links
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_links_inserted();
--> statement-breakpoint
CREATE TRIGGER as_links_links_updated AFTER UPDATE ON links REFERENCING OLD TABLE AS old_links NEW TABLE AS new_links
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_links_updated();
--> statement-breakpoint
CREATE TRIGGER as_links_links_deleted AFTER DELETE ON links REFERENCING OLD TABLE AS old_links
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_links_deleted();
--> statement-breakpoint
CREATE TRIGGER as_links_links_truncated AFTER TRUNCATE ON links
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_truncated();
--> statement-breakpoint
CREATE TRIGGER as_links_address_info_inserted AFTER INSERT ON address_info REFERENCING NEW TABLE AS new_info
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_address_info_inserted();
--> statement-breakpoint
CREATE TRIGGER as_links_address_info_updated AFTER UPDATE ON address_info REFERENCING OLD TABLE AS old_info NEW TABLE AS new_info
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_address_info_updated();
--> statement-breakpoint
CREATE TRIGGER as_links_address_info_deleted AFTER DELETE ON address_info REFERENCING OLD TABLE AS old_info
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_address_info_deleted();
--> statement-breakpoint
CREATE TRIGGER as_links_address_info_truncated AFTER TRUNCATE ON address_info
  FOR EACH STATEMENT EXECUTE FUNCTION as_links_truncated();
