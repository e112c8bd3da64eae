-- Hand-written: a daily partition for any day, not only from today on, so results merged from another
-- deployment's dump keep their day (and their retention) instead of piling up in the default partition.
-- A day whose rows already sit in the default partition stays there: attaching it would have to move them.
CREATE OR REPLACE FUNCTION measurements.ensure_partition(day date) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  name text := 'results_' || to_char(day, 'YYYYMMDD');
  lo timestamptz := day::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (day + 1)::timestamp AT TIME ZONE 'UTC';
BEGIN
  IF to_regclass('measurements.' || name) IS NOT NULL THEN
    RETURN false;
  END IF;
  IF EXISTS (SELECT 1 FROM measurements.results_default WHERE received_at >= lo AND received_at < hi) THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE measurements.%I PARTITION OF measurements.results FOR VALUES FROM (%L) TO (%L)', name, lo, hi);
  RETURN true;
END
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION measurements.ensure_partitions(days_ahead integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  created integer := 0;
BEGIN
  FOR i IN 0..days_ahead LOOP
    IF measurements.ensure_partition((now() AT TIME ZONE 'UTC')::date + i) THEN
      created := created + 1;
    END IF;
  END LOOP;
  RETURN created;
END
$$;
