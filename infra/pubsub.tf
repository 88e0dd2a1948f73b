# Batch-ready events: the aggregate function publishes one per batch; a push subscription delivers it to the
# AWS trigger with a Google-signed OIDC token, so AWS holds no GCP key and GCP holds no AWS key.

resource "google_pubsub_topic" "batch_ready" {
  name   = "${local.name}-batch-ready"
  labels = local.labels
  # Events older than a day are stale: the dataset's deadline has passed and the next run supersedes them.
  message_retention_duration = "86400s"

  depends_on = [google_project_service.required]
}

# The identity Pub/Sub signs push tokens as. The trigger accepts only tokens whose email is this account's.
resource "google_service_account" "push" {
  account_id   = "${local.name}-push"
  display_name = "Writeback ${var.stage}: Pub/Sub push identity (OIDC to the AWS trigger)"
}

# The Pub/Sub service agent mints the OIDC tokens on the push account's behalf (required for projects created
# before April 2021, harmless after).
resource "google_service_account_iam_member" "push_token_creator" {
  service_account_id = google_service_account.push.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}

resource "google_pubsub_subscription" "trigger_push" {
  name   = "${local.name}-trigger-push"
  topic  = google_pubsub_topic.batch_ready.id
  labels = local.labels

  # For push, this is also the HTTP timeout of each delivery.
  ack_deadline_seconds       = var.push_ack_deadline_seconds
  message_retention_duration = "86400s"

  push_config {
    push_endpoint = var.trigger_url

    oidc_token {
      service_account_email = google_service_account.push.email
      audience              = var.push_audience
    }
  }

  # Exponential backoff between redeliveries, so a trigger or Step Functions hiccup is not hammered.
  retry_policy {
    minimum_backoff = "10s"
    maximum_backoff = "600s"
  }

  # After max_delivery_attempts the event goes to the dead-letter topic (and the delivery attempt number is
  # added to each push, which the trigger logs).
  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.batch_ready_dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  # Never expire for lack of activity: a pipeline that runs daily is idle most of the time.
  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_pubsub_topic_iam_member.dead_letter_publisher,
    google_service_account_iam_member.push_token_creator,
  ]
}

resource "google_pubsub_topic" "batch_ready_dead_letter" {
  name                       = "${local.name}-batch-ready-dead-letter"
  labels                     = local.labels
  message_retention_duration = "604800s"

  depends_on = [google_project_service.required]
}

# A topic alone keeps nothing: this pull subscription holds dead letters for a week so someone can look and
# re-publish them (docs/deploy.md).
resource "google_pubsub_subscription" "dead_letter" {
  name                       = "${local.name}-batch-ready-dead-letter"
  topic                      = google_pubsub_topic.batch_ready_dead_letter.id
  labels                     = local.labels
  message_retention_duration = "604800s"
  ack_deadline_seconds       = 60

  expiration_policy {
    ttl = ""
  }
}

# Dead-lettering needs the Pub/Sub service agent to publish to the dead-letter topic and to ack (subscribe to)
# the source subscription.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  topic  = google_pubsub_topic.batch_ready_dead_letter.id
  role   = "roles/pubsub.publisher"
  member = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "source_subscriber" {
  subscription = google_pubsub_subscription.trigger_push.name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
