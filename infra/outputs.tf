output "batch_ready_topic" {
  description = "Full name of the Pub/Sub topic the aggregate function publishes batch-ready events to."
  value       = google_pubsub_topic.batch_ready.id
}

output "push_subscription" {
  description = "Full name of the push subscription that delivers events to the AWS trigger."
  value       = google_pubsub_subscription.trigger_push.id
}

output "push_service_account_email" {
  description = "Service account Pub/Sub signs push tokens as; must equal the SAM stack's PushServiceAccountEmail parameter."
  value       = google_service_account.push.email
}

output "dead_letter_subscription" {
  description = "Pull subscription holding events that exhausted their push attempts; inspect and re-publish from here."
  value       = google_pubsub_subscription.dead_letter.id
}

output "shard_bucket" {
  description = "Bucket for Parquet shards and manifests (objects expire after shard_retention_days)."
  value       = google_storage_bucket.shards.name
}

output "aggregate_url" {
  description = "HTTPS URL of the aggregate service (IAM-authenticated; POST {\"dataset\": ...} to aggregate_run_path)."
  value       = google_cloud_run_v2_service.aggregate.uri
}

output "aggregate_service_account_email" {
  description = "Identity the aggregate function runs and signs URLs as."
  value       = google_service_account.aggregate.email
}

output "artifact_repository" {
  description = "Docker repository to push the aggregate image to (<region>-docker.pkg.dev/<project>/<repo>)."
  value       = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.writeback.repository_id}"
}

output "scheduler_job" {
  description = "Name of the Cloud Scheduler job, or null when enable_scheduler is false."
  value       = var.enable_scheduler ? google_cloud_scheduler_job.aggregate[0].name : null
}
