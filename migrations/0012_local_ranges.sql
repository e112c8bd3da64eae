CREATE TABLE "local_ranges" (
	"prefix" "cidr" PRIMARY KEY NOT NULL,
	"asn" bigint NOT NULL,
	"org" text NOT NULL,
	"country" text
);
--> statement-breakpoint
ALTER TABLE "address_info" DROP CONSTRAINT "address_info_public_only_check";--> statement-breakpoint
ALTER TABLE "address_info" ADD COLUMN "source" text;--> statement-breakpoint
CREATE INDEX "local_ranges_prefix_gist_idx" ON "local_ranges" USING gist ("prefix" inet_ops);--> statement-breakpoint
ALTER TABLE "address_info" ADD CONSTRAINT "address_info_source_check" CHECK ("address_info"."source" in ('declared', 'ip-location-db'));--> statement-breakpoint
ALTER TABLE "address_info" ADD CONSTRAINT "address_info_public_only_check" CHECK ("address_info"."kind" = 'public' or "address_info"."source" is not distinct from 'declared' or ("address_info"."asn" is null and "address_info"."country" is null));--> statement-breakpoint
-- Rows enriched before this migration took their AS and country from the public data.
UPDATE "address_info" SET "source" = 'ip-location-db' WHERE "asn" IS NOT NULL OR "country" IS NOT NULL;
