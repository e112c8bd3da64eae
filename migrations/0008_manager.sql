CREATE TABLE "acme_accounts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"directory_url" text NOT NULL,
	"email" text NOT NULL,
	"key_sealed" text NOT NULL,
	"account_url" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "acme_challenges" (
	"token" text PRIMARY KEY NOT NULL,
	"key_authorization" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"prefix" text NOT NULL,
	"key_hash" text NOT NULL,
	"scope" text DEFAULT 'worker' NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "ddns_state" (
	"domain" text PRIMARY KEY NOT NULL,
	"holder_instance" text,
	"holder_url" text,
	"address" text,
	"last_update_at" timestamp with time zone,
	"last_result" text,
	"updates" integer DEFAULT 0 NOT NULL,
	"ok" boolean
);
--> statement-breakpoint
CREATE TABLE "manager_sessions" (
	"sid" varchar PRIMARY KEY NOT NULL,
	"sess" json NOT NULL,
	"expire" timestamp (6) NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"key" varchar(255) PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" bigint
);
--> statement-breakpoint
CREATE TABLE "registered_services" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"url" text NOT NULL,
	"name" text NOT NULL,
	"service_type" text NOT NULL,
	"instance_id" text,
	"version" text,
	"capabilities" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"status" text DEFAULT 'unknown' NOT NULL,
	"last_seen_at" timestamp with time zone,
	"last_checked_at" timestamp with time zone,
	"last_error" text,
	"details" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "tls_certificates" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"domain" text NOT NULL,
	"source" text NOT NULL,
	"cert_pem" text NOT NULL,
	"key_sealed" text NOT NULL,
	"not_before" timestamp with time zone NOT NULL,
	"not_after" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"user_key_sealed" text NOT NULL,
	"totp_secret_sealed" text NOT NULL,
	"last_totp_step" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_login_at" timestamp with time zone
);
--> statement-breakpoint
CREATE UNIQUE INDEX "acme_accounts_directory_email_idx" ON "acme_accounts" USING btree ("directory_url","email");--> statement-breakpoint
CREATE UNIQUE INDEX "api_keys_prefix_idx" ON "api_keys" USING btree ("prefix");--> statement-breakpoint
CREATE INDEX "manager_sessions_expire_idx" ON "manager_sessions" USING btree ("expire");--> statement-breakpoint
CREATE UNIQUE INDEX "registered_services_url_idx" ON "registered_services" USING btree ("url");--> statement-breakpoint
CREATE INDEX "tls_certificates_domain_idx" ON "tls_certificates" USING btree ("domain","not_after");--> statement-breakpoint
CREATE UNIQUE INDEX "users_name_idx" ON "users" USING btree ("name");