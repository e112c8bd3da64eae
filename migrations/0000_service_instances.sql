CREATE TABLE "service_instances" (
	"instance_id" text PRIMARY KEY NOT NULL,
	"service_type" text NOT NULL,
	"name" text NOT NULL,
	"version" text NOT NULL,
	"url" text,
	"hostname" text NOT NULL,
	"pid" integer NOT NULL,
	"capabilities" text[] NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_instances_type_check" CHECK ("service_instances"."service_type" in ('input', 'ping', 'output', 'manager'))
);
--> statement-breakpoint
CREATE INDEX "service_instances_last_seen_idx" ON "service_instances" USING btree ("last_seen_at");