CREATE TABLE "address_info" (
	"address" "inet" PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"asn" bigint,
	"as_org" text,
	"country" text,
	"data_version" text,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "address_info_public_only_check" CHECK ("address_info"."kind" = 'public' or ("address_info"."asn" is null and "address_info"."country" is null))
);
--> statement-breakpoint
CREATE TABLE "asn_ranges" (
	"first" "inet" PRIMARY KEY NOT NULL,
	"last" "inet" NOT NULL,
	"asn" bigint NOT NULL,
	"org" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "country_ranges" (
	"first" "inet" PRIMARY KEY NOT NULL,
	"last" "inet" NOT NULL,
	"country" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "enrichment_sources" (
	"source" text PRIMARY KEY NOT NULL,
	"package" text NOT NULL,
	"version" text NOT NULL,
	"rows" bigint NOT NULL,
	"loaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
