# The aggregate function: runs the final aggregation in BigQuery, exports Parquet shards and a manifest to the
# bucket, signs URLs for them, and publishes the batch-ready event. It runs as its own service account.

resource "google_artifact_registry_repository" "writeback" {
  repository_id = local.name
  location      = var.region
  format        = "DOCKER"
  description   = "Writeback ${var.stage} container images (the aggregate function)."
  labels        = local.labels

  depends_on = [google_project_service.required]
}

resource "google_service_account" "aggregate" {
  account_id   = "${local.name}-aggregate"
  display_name = "Writeback ${var.stage}: aggregate function"
}

# Run query and EXPORT DATA jobs (jobs are billed to and created in the project).
resource "google_project_iam_member" "aggregate_job_user" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = google_service_account.aggregate.member
}

# Read the source dataset only, not every dataset in the project.
resource "google_bigquery_dataset_iam_member" "aggregate_data_viewer" {
  project    = var.project_id
  dataset_id = var.bigquery_dataset_id
  role       = "roles/bigquery.dataViewer"
  member     = google_service_account.aggregate.member
}

# Write shards and manifests (EXPORT DATA writes as the job's identity), and overwrite a re-run's files.
resource "google_storage_bucket_iam_member" "aggregate_object_admin" {
  bucket = google_storage_bucket.shards.name
  role   = "roles/storage.objectAdmin"
  member = google_service_account.aggregate.member
}

# V4 signed URLs without a key file: the function signs through IAM signBlob as itself, so it needs the token
# creator role on its own account (and on no other).
resource "google_service_account_iam_member" "aggregate_signs_as_itself" {
  service_account_id = google_service_account.aggregate.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = google_service_account.aggregate.member
}

# Publish batch-ready events to its topic only.
resource "google_pubsub_topic_iam_member" "aggregate_publisher" {
  topic  = google_pubsub_topic.batch_ready.id
  role   = "roles/pubsub.publisher"
  member = google_service_account.aggregate.member
}

resource "google_cloud_run_v2_service" "aggregate" {
  name     = "${local.name}-aggregate"
  location = var.region
  labels   = local.labels
  # Reachable only with an identity token of an account that has roles/run.invoker (no allUsers binding).
  ingress             = "INGRESS_TRAFFIC_ALL"
  deletion_protection = var.stage == "prod"

  template {
    service_account = google_service_account.aggregate.email
    # One aggregation per instance: a run is a long BigQuery job plus an export, not many small requests.
    max_instance_request_concurrency = 1
    timeout                          = "900s"

    scaling {
      min_instance_count = 0
      max_instance_count = 2
    }

    containers {
      image = var.aggregate_image

      resources {
        limits = {
          cpu    = "1"
          memory = "1Gi"
        }
        # Billing only while a request runs; the function does no background work between runs.
        cpu_idle = true
      }

      # The names AggregateEnvironment reads (functions/gcp/Writeback.Aggregate); cloud mode uses BigQuery, GCS, Pub/Sub.
      env {
        name  = "WRITEBACK_MODE"
        value = "cloud"
      }
      env {
        name  = "GOOGLE_CLOUD_PROJECT"
        value = var.project_id
      }
      env {
        name  = "WRITEBACK_BQ_DATASET"
        value = var.bigquery_dataset_id
      }
      env {
        name  = "WRITEBACK_BQ_LOCATION"
        value = var.bigquery_location
      }
      env {
        name  = "WRITEBACK_BUCKET"
        value = google_storage_bucket.shards.name
      }
      env {
        name  = "WRITEBACK_TOPIC"
        value = google_pubsub_topic.batch_ready.name
      }
      env {
        name  = "WRITEBACK_SIGNED_URL_HOURS"
        value = tostring(var.signed_url_ttl_hours)
      }
      env {
        name  = "WRITEBACK_BUSINESS_TIME_ZONE"
        value = var.business_time_zone
      }

      startup_probe {
        http_get {
          path = "/healthz"
        }
      }
    }
  }

  depends_on = [
    google_project_service.required,
    google_project_iam_member.aggregate_job_user,
    google_bigquery_dataset_iam_member.aggregate_data_viewer,
    google_storage_bucket_iam_member.aggregate_object_admin,
    google_service_account_iam_member.aggregate_signs_as_itself,
    google_pubsub_topic_iam_member.aggregate_publisher,
  ]
}
