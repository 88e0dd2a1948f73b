# Optional: run the aggregation on a schedule. Off by default, since many teams start it from the warehouse's
# own orchestrator once the upstream models are fresh.

resource "google_service_account" "scheduler" {
  count        = var.enable_scheduler ? 1 : 0
  account_id   = "${local.name}-scheduler"
  display_name = "Writeback ${var.stage}: Cloud Scheduler caller of the aggregate function"
}

resource "google_cloud_run_v2_service_iam_member" "scheduler_invoker" {
  count    = var.enable_scheduler ? 1 : 0
  project  = var.project_id
  location = google_cloud_run_v2_service.aggregate.location
  name     = google_cloud_run_v2_service.aggregate.name
  role     = "roles/run.invoker"
  member   = google_service_account.scheduler[0].member
}

resource "google_cloud_scheduler_job" "aggregate" {
  count       = var.enable_scheduler ? 1 : 0
  name        = "${local.name}-aggregate-${var.dataset}"
  description = "Runs the ${var.dataset} aggregation; the batch then flows to AWS by itself."
  region      = var.region
  schedule    = var.schedule
  time_zone   = var.time_zone
  # Cloud Scheduler allows up to 30 minutes for an HTTP target; the service's own timeout is 15.
  attempt_deadline = "900s"

  retry_config {
    retry_count          = 2
    min_backoff_duration = "60s"
  }

  http_target {
    http_method = "POST"
    uri         = "${google_cloud_run_v2_service.aggregate.uri}${var.aggregate_run_path}"
    headers = {
      "Content-Type" = "application/json"
    }
    body = base64encode(jsonencode({ dataset = var.dataset, businessDate = "yesterday" }))

    oidc_token {
      service_account_email = google_service_account.scheduler[0].email
      audience              = google_cloud_run_v2_service.aggregate.uri
    }
  }

  depends_on = [google_cloud_run_v2_service_iam_member.scheduler_invoker]
}
