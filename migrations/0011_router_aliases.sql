CREATE TABLE "alias_evidence" (
	"a" "inet" NOT NULL,
	"b" "inet" NOT NULL,
	"method" text NOT NULL,
	"alias_count" bigint NOT NULL,
	"distinct_count" bigint NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"workers" text[] NOT NULL,
	CONSTRAINT "alias_evidence_order_check" CHECK ("alias_evidence"."a" < "alias_evidence"."b"),
	CONSTRAINT "alias_evidence_method_check" CHECK ("alias_evidence"."method" in ('discarte', 'timestamp', 'mercator', 'ally'))
);
--> statement-breakpoint
CREATE TABLE "router_interfaces" (
	"address" "inet" PRIMARY KEY NOT NULL,
	"router_id" "inet" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "routers" (
	"id" "inet" PRIMARY KEY NOT NULL,
	"interfaces" integer NOT NULL,
	"alias_pairs" integer NOT NULL,
	"resolved_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alias_evidence_pair_method_idx" ON "alias_evidence" USING btree ("a","b","method");--> statement-breakpoint
CREATE INDEX "alias_evidence_b_idx" ON "alias_evidence" USING btree ("b");--> statement-breakpoint
CREATE INDEX "router_interfaces_router_idx" ON "router_interfaces" USING btree ("router_id");