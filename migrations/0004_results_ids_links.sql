CREATE TABLE "links" (
	"near" "inet" NOT NULL,
	"far" "inet" NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"count" bigint NOT NULL,
	"delta_min_us" real NOT NULL,
	"delta_max_us" real NOT NULL,
	"delta_sum_us" double precision NOT NULL
);
--> statement-breakpoint
CREATE TABLE "result_ids" (
	"id" uuid PRIMARY KEY NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "links_near_far_idx" ON "links" USING btree ("near","far");