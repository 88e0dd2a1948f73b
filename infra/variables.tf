variable "project_id" {
  description = "GCP project that holds the BigQuery dataset and where the topic, bucket and aggregate service are created."
  type        = string
}

variable "region" {
  description = "Region for Cloud Run, the shard bucket, Artifact Registry and Cloud Scheduler (e.g. asia-northeast1). Put it near the warehouse's dataset."
  type        = string
}

variable "stage" {
  description = "Pipeline stage, dev or prod. It is in every name, so a dev and a prod deployment never share a topic, bucket, service account or subscription; it must match the SAM stack's Stage."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.stage)
    error_message = "stage must be dev or prod."
  }
}

variable "trigger_url" {
  description = "The SAM stack's TriggerUrl output: the AWS Lambda Function URL that Pub/Sub pushes batch-ready events to."
  type        = string

  validation {
    condition     = startswith(var.trigger_url, "https://")
    error_message = "trigger_url must be the https:// Function URL from the SAM stack's outputs."
  }
}

variable "push_audience" {
  description = "The SAM stack's PushAudience output: the audience claim Pub/Sub puts in each push token and the trigger requires."
  type        = string
}

variable "bigquery_dataset_id" {
  description = "Existing BigQuery dataset the aggregation reads; the aggregate service account gets read access to it only."
  type        = string
}

variable "bigquery_location" {
  description = "Location of the BigQuery dataset (e.g. US, EU, asia-northeast1); EXPORT DATA jobs run there."
  type        = string
  default     = "US"
}

variable "dataset" {
  description = "Writeback dataset (target contract) the scheduled run produces, e.g. student_dashboard."
  type        = string
  default     = "student_dashboard"
}

variable "aggregate_image" {
  description = "Container image of the aggregate function (built from artifacts/aggregate by scripts/build-artifacts.sh and pushed to the repository in the artifact_repository output)."
  type        = string
}

variable "bucket_name" {
  description = "Name of the shard bucket; empty means <project_id>-writeback-<stage>. Bucket names are global, so override it if that one is taken."
  type        = string
  default     = ""
}

variable "shard_retention_days" {
  description = "Days after which shards and manifests are deleted from the bucket. Keep it longer than the signed URLs' lifetime plus the time you may want to re-run a batch."
  type        = number
  default     = 7

  validation {
    condition     = var.shard_retention_days >= 1
    error_message = "shard_retention_days must be at least 1."
  }
}

variable "signed_url_ttl_hours" {
  description = "Lifetime in hours of the V4 signed URLs the aggregate function hands to AWS (manifest and shards). V4 signatures allow at most 7 days (168 h); a few hours covers the load and its retries."
  type        = number
  default     = 6

  validation {
    condition     = var.signed_url_ttl_hours > 0 && var.signed_url_ttl_hours <= 168
    error_message = "signed_url_ttl_hours must be more than 0 and at most 168 (7 days)."
  }
}

variable "push_ack_deadline_seconds" {
  description = "How long Pub/Sub waits for the trigger to answer a push before it counts as failed and retries (10-600). The trigger answers in well under a second."
  type        = number
  default     = 30
}

variable "max_delivery_attempts" {
  description = "Push attempts before a batch-ready event goes to the dead-letter topic (5-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 100
    error_message = "max_delivery_attempts must be between 5 and 100 (Pub/Sub's limits)."
  }
}

variable "enable_scheduler" {
  description = "Create a Cloud Scheduler job that runs the aggregation on a schedule. Its body is static ({\"dataset\": ..., \"businessDate\": \"yesterday\"}); the function resolves \"yesterday\" in business_time_zone. Leave false when another orchestrator (e.g. the warehouse's own) calls the aggregate service with the date."
  type        = bool
  default     = false
}

variable "schedule" {
  description = "Cron schedule (5-field unix-cron) of the Cloud Scheduler job, in time_zone. The default, 05:00 Asia/Tokyo, produces yesterday's batch on the morning it is due and leaves the run (export with retries, then the load) about 3 h before an 08:00 Asia/Tokyo deadline; tests/Writeback.Deploy.Tests checks the defaults against every target's deadline."
  type        = string
  default     = "0 5 * * *"
}

variable "time_zone" {
  description = "IANA time zone the schedule is read in, e.g. Asia/Tokyo. Keep it the business's zone: a UTC schedule for a Tokyo business date fires hours after that day's deadline."
  type        = string
  default     = "Asia/Tokyo"
}

variable "business_time_zone" {
  description = "IANA time zone in which the aggregate function resolves \"yesterday\" (WRITEBACK_BUSINESS_TIME_ZONE): the zone of the targets' business dates and deadlines."
  type        = string
  default     = "Asia/Tokyo"
}

variable "aggregate_run_path" {
  description = "HTTP path of the aggregate service that starts one aggregation (the scheduler POSTs {\"dataset\": ..., \"businessDate\": ...} to it)."
  type        = string
  default     = "/"
}
