CREATE TABLE "consumer_blocks" (
	"consumer_id" text NOT NULL,
	"block_id" bigint NOT NULL,
	"position" bigint DEFAULT 0 NOT NULL,
	"slot" smallint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "consumers" (
	"id" text PRIMARY KEY NOT NULL,
	"pass" integer DEFAULT 1 NOT NULL,
	"pass_started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"cooldown_until" timestamp with time zone,
	"ring_start" integer NOT NULL,
	"ring_cursor_key" integer,
	"ring_cursor_cidr" "cidr",
	"ring_wrapped" boolean DEFAULT false NOT NULL,
	"ring_done" boolean DEFAULT false NOT NULL,
	"hops_served" "int8multirange" NOT NULL,
	"last_prefix" text,
	"rr_slot" integer DEFAULT 0 NOT NULL,
	"served_in_pass" bigint DEFAULT 0 NOT NULL,
	"served_total" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "hops" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"address" "inet" NOT NULL,
	"family" smallint NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "leases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"consumer_id" text NOT NULL,
	"pass" integer NOT NULL,
	"targets" "inet"[] NOT NULL,
	"acked" "inet"[] NOT NULL,
	"state" text DEFAULT 'open' NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"closed_at" timestamp with time zone,
	"reissued_from" uuid,
	CONSTRAINT "leases_state_check" CHECK ("leases"."state" in ('open', 'done', 'reissued'))
);
--> statement-breakpoint
CREATE TABLE "target_blocks" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"line" integer NOT NULL,
	"cidr" "cidr" NOT NULL,
	"family" smallint NOT NULL,
	"walk_size" bigint NOT NULL,
	"shuffle_key" integer NOT NULL,
	"active" boolean DEFAULT true NOT NULL,
	"effective" boolean DEFAULT false NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	"removed_at" timestamp with time zone,
	CONSTRAINT "target_blocks_family_check" CHECK ("target_blocks"."family" in (4, 6))
);
--> statement-breakpoint
CREATE TABLE "target_exclusions" (
	"cidr" "cidr" PRIMARY KEY NOT NULL,
	"reason" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "target_sources" (
	"source" text PRIMARY KEY NOT NULL,
	"sha256" text NOT NULL,
	"lines" integer NOT NULL,
	"blocks" integer NOT NULL,
	"skipped" integer NOT NULL,
	"imported_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "consumer_blocks" ADD CONSTRAINT "consumer_blocks_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "consumer_blocks" ADD CONSTRAINT "consumer_blocks_block_id_target_blocks_id_fk" FOREIGN KEY ("block_id") REFERENCES "public"."target_blocks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "leases" ADD CONSTRAINT "leases_consumer_id_consumers_id_fk" FOREIGN KEY ("consumer_id") REFERENCES "public"."consumers"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "consumer_blocks_consumer_block_idx" ON "consumer_blocks" USING btree ("consumer_id","block_id");--> statement-breakpoint
CREATE UNIQUE INDEX "hops_address_idx" ON "hops" USING btree ("address");--> statement-breakpoint
CREATE INDEX "leases_open_idx" ON "leases" USING btree ("consumer_id","expires_at") WHERE "leases"."state" = 'open';--> statement-breakpoint
CREATE INDEX "leases_closed_idx" ON "leases" USING btree ("closed_at") WHERE "leases"."state" <> 'open';--> statement-breakpoint
CREATE UNIQUE INDEX "target_blocks_source_cidr_idx" ON "target_blocks" USING btree ("source","cidr");--> statement-breakpoint
CREATE INDEX "target_blocks_ring_idx" ON "target_blocks" USING btree ("shuffle_key","cidr") WHERE "target_blocks"."effective";--> statement-breakpoint
CREATE INDEX "target_blocks_cidr_gist_idx" ON "target_blocks" USING gist ("cidr" inet_ops) WHERE "target_blocks"."active";