-- Hand-written: drizzle cannot express functions and triggers.
-- Every change to the do-not-probe list bumps one counter; serving instances compare it per batch and
-- reload the list only when it moved (a list of 10,000 entries re-read per batch cost 90% of throughput).
INSERT INTO "target_exclusions_version" ("id", "version") VALUES (1, 0) ON CONFLICT DO NOTHING;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION hopmap_bump_exclusions_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE target_exclusions_version SET version = version + 1 WHERE id = 1;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER target_exclusions_changed
  AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON target_exclusions
  FOR EACH STATEMENT EXECUTE FUNCTION hopmap_bump_exclusions_version();
