CREATE TABLE "results_per_minute" (
	"minute" timestamp with time zone NOT NULL,
	"type" text NOT NULL,
	"results" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "results_per_minute_state" (
	"one" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"rolled_up_to" timestamp with time zone DEFAULT '-infinity' NOT NULL,
	CONSTRAINT "results_per_minute_state_one_row_check" CHECK ("results_per_minute_state"."one")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "results_per_minute_minute_type_idx" ON "results_per_minute" USING btree ("minute","type");--> statement-breakpoint
-- Hand-written: the state's one row, so the rollup can lock it and a merge can rewind it (src/results/results-per-minute.ts).
INSERT INTO "results_per_minute_state" ("one") VALUES (true);
