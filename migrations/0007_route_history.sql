CREATE TABLE "paths" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"hash" uuid NOT NULL,
	"hops" jsonb NOT NULL,
	"reached" boolean NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "route_changes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"worker" text NOT NULL,
	"target" "inet" NOT NULL,
	"method" text NOT NULL,
	"flow" integer NOT NULL,
	"before_span_id" bigint NOT NULL,
	"after_span_id" bigint NOT NULL,
	"before_path_id" bigint NOT NULL,
	"after_path_id" bigint NOT NULL,
	"diverge_ttl" integer NOT NULL,
	"before_last_seen_at" timestamp with time zone NOT NULL,
	"after_first_seen_at" timestamp with time zone NOT NULL,
	"result_id" uuid NOT NULL,
	"detected_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "route_current" (
	"worker" text NOT NULL,
	"target" "inet" NOT NULL,
	"method" text NOT NULL,
	"flow" integer NOT NULL,
	"span_id" bigint
);
--> statement-breakpoint
CREATE TABLE "route_spans" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"worker" text NOT NULL,
	"target" "inet" NOT NULL,
	"method" text NOT NULL,
	"flow" integer NOT NULL,
	"path_id" bigint NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"observations" bigint NOT NULL,
	"first_result" uuid NOT NULL,
	"last_result" uuid NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "paths_hash_idx" ON "paths" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "route_changes_seen_idx" ON "route_changes" USING btree ("after_first_seen_at");--> statement-breakpoint
CREATE INDEX "route_changes_route_idx" ON "route_changes" USING btree ("worker","target","after_first_seen_at");--> statement-breakpoint
CREATE UNIQUE INDEX "route_current_route_idx" ON "route_current" USING btree ("worker","target","method","flow");--> statement-breakpoint
CREATE INDEX "route_spans_route_idx" ON "route_spans" USING btree ("worker","target","method","flow","first_seen_at");--> statement-breakpoint
CREATE INDEX "route_spans_target_idx" ON "route_spans" USING btree ("target","first_seen_at");