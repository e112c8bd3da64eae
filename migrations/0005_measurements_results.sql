-- Hand-written: drizzle cannot express declarative partitioning or functions.
-- Results, one row each, partitioned by the day they were received: rotation detaches and drops (or
-- archives) whole days, which costs nothing like DELETE would. Received time, not measured time, decides the
-- partition, so a worker whose clock is off, or whose spool held results for days, still lands in a
-- partition that exists. The whole result stays in `body` (jsonb); hops are queried with
-- jsonb_array_elements(body->'hops'), and links are kept, aggregated, in public.links.
CREATE SCHEMA IF NOT EXISTS measurements;
--> statement-breakpoint
CREATE TABLE measurements.results (
  id uuid NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  measured_at timestamptz NOT NULL,
  type text NOT NULL,
  worker text NOT NULL,
  target inet NOT NULL,
  lease uuid,
  body jsonb NOT NULL
) PARTITION BY RANGE (received_at);
--> statement-breakpoint
CREATE INDEX results_target_idx ON measurements.results (target, received_at);
--> statement-breakpoint
CREATE INDEX results_received_idx ON measurements.results (received_at);
--> statement-breakpoint
-- Catches anything outside the daily partitions, so an insert never fails for want of one.
CREATE TABLE measurements.results_default PARTITION OF measurements.results DEFAULT;
--> statement-breakpoint
-- Creates the daily partitions from today to `days_ahead` days ahead (UTC); returns how many it created.
CREATE OR REPLACE FUNCTION measurements.ensure_partitions(days_ahead integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  day date;
  created integer := 0;
  name text;
BEGIN
  FOR i IN 0..days_ahead LOOP
    day := (now() AT TIME ZONE 'UTC')::date + i;
    name := 'results_' || to_char(day, 'YYYYMMDD');
    IF to_regclass('measurements.' || name) IS NULL THEN
      EXECUTE format('CREATE TABLE measurements.%I PARTITION OF measurements.results FOR VALUES FROM (%L) TO (%L)',
                     name, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$$;
--> statement-breakpoint
SELECT measurements.ensure_partitions(2);
