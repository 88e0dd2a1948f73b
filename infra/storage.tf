# Parquet shards and manifests. AWS reads them only through V4 signed URLs that expire; nothing here is public.
resource "google_storage_bucket" "shards" {
  name     = var.bucket_name != "" ? var.bucket_name : "${var.project_id}-writeback-${var.stage}"
  location = var.region
  labels   = local.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  # Shards are reproducible from the warehouse; a prod bucket still should not vanish with a careless destroy.
  force_destroy = var.stage != "prod"

  # Shards are only needed until their batch is published (plus time to re-run it); then they are cost.
  lifecycle_rule {
    condition {
      age = var.shard_retention_days
    }
    action {
      type = "Delete"
    }
  }

  # EXPORT DATA can leave partial uploads behind when a job fails.
  lifecycle_rule {
    condition {
      age = 1
    }
    action {
      type = "AbortIncompleteMultipartUpload"
    }
  }

  depends_on = [google_project_service.required]
}
